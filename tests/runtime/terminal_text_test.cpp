// Text for a terminal: controls, bidi marks and invalid UTF-8 escaped.

#include <catch2/catch.hpp>

#include <string>

#include "runtime/terminal_text.hpp"

using namespace auditree;
using namespace std::string_literals;

TEST_CASE("terminal_safe escapes every C0 byte, DEL and the backslash") {
  for (int b = 0; b < 0x20; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\x%02x", b);
    CHECK(terminal_safe(std::string(1, static_cast<char>(b))) == buf);
  }
  CHECK(terminal_safe("\x7f") == "\\x7f");
  CHECK(terminal_safe("a\\b") == "a\\\\b");
  CHECK(terminal_safe("plain text 123 ~") == "plain text 123 ~");
}

TEST_CASE("terminal_safe escapes C1 controls and bidi code points") {
  for (char32_t cp = 0x80; cp <= 0x9f; ++cp) {
    std::string utf8{static_cast<char>(0xc0 | cp >> 6),
                     static_cast<char>(0x80 | (cp & 0x3f))};
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(cp));
    CHECK(terminal_safe(utf8) == buf);
  }
  CHECK(terminal_safe("\xd8\x9c") == "\\u061c");
  CHECK(terminal_safe("\xe2\x80\x8e\xe2\x80\x8f") == "\\u200e\\u200f");
  for (char32_t cp : {0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067,
                      0x2068, 0x2069, 0x2028, 0x2029}) {
    std::string utf8{static_cast<char>(0xe0 | cp >> 12),
                     static_cast<char>(0x80 | (cp >> 6 & 0x3f)),
                     static_cast<char>(0x80 | (cp & 0x3f))};
    CHECK(is_hidden_control(cp));
    CHECK(terminal_safe(utf8).rfind("\\u2", 0) == 0);
    CHECK(terminal_safe(utf8).size() == 6);
  }
}

TEST_CASE("terminal_safe keeps valid text and escapes invalid bytes") {
  for (auto text : {"prög ñame"s, "\xe6\x97\xa5\xe6\x9c\xac"s,
                    "\xf0\x9f\x90\xa7"s, "\xc2\xa0"s, "\xe2\x80\x8d"s}) {
    INFO(text);
    CHECK(terminal_safe(text) == text);
  }
  CHECK(terminal_safe("\xff") == "\\xff");
  CHECK(terminal_safe("\xc0\xaf") == "\\xc0\\xaf");        // overlong '/'
  CHECK(terminal_safe("\xed\xa0\x80") == "\\xed\\xa0\\x80"); // a surrogate
  CHECK(terminal_safe("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
  CHECK(terminal_safe("\xe2\x80") == "\\xe2\\x80");         // cut short
  // An invalid lead byte must not swallow a control after it.
  CHECK(terminal_safe("\xc2\x1b") == "\\xc2\\x1b");
}

TEST_CASE("terminal_safe: any byte string gives printable valid UTF-8") {
  uint32_t state = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    for (int i = 0; i < 16; ++i) {
      state = state * 1103515245 + 12345;
      text += static_cast<char>(state >> 16);
    }
    auto safe = terminal_safe(text);
    for (size_t i = 0; i < safe.size();) {
      char32_t cp = 0;
      auto n = decode_utf8(safe, i, cp);
      REQUIRE(n > 0);
      REQUIRE(cp >= 0x20);
      REQUIRE(cp != 0x7f);
      REQUIRE_FALSE(is_hidden_control(cp));
      i += n;
    }
  }
}

TEST_CASE("first_columns and num_columns count code points") {
  CHECK(num_columns("añb\xe2\x80\xae") == 4);
  CHECK(first_columns("añb", 2) == "añ");
  CHECK(first_columns("ab", 5) == "ab");
  CHECK(num_columns("\xff\xfe") == 2);
}

TEST_CASE("terminal_safe_lines keeps line breaks and escapes the rest",
          "[terminal]") {
  CHECK(terminal_safe_lines("") == "");
  CHECK(terminal_safe_lines("no container x\n") == "no container x\n");
  CHECK(terminal_safe_lines("a\x1b]0;owned\x07\nb\r\n\n")
        == "a\\x1b]0;owned\\x07\nb\\x0d\n\n");
  CHECK(terminal_safe_lines("\xe2\x80\xae") == "\\u202e");
}
