#include "runtime/terminal_text.hpp"

namespace auditree {

size_t decode_utf8(std::string_view s, size_t i, char32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) {
    return k < s.size() && (byte(k) & 0xc0) == 0x80;
  };
  auto c = byte(i);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  size_t n = c >= 0xc2 && c <= 0xdf   ? 2
             : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4
                                      : 0;
  if (n == 0)
    return 0;
  for (size_t k = 1; k < n; ++k)
    if (!cont(i + k))
      return 0;
  // Overlong three- and four-byte forms, UTF-16 surrogates, past U+10FFFF.
  if ((c == 0xe0 && byte(i + 1) < 0xa0) || (c == 0xed && byte(i + 1) > 0x9f)
      || (c == 0xf0 && byte(i + 1) < 0x90)
      || (c == 0xf4 && byte(i + 1) > 0x8f))
    return 0;
  char32_t x = c & (0xff >> (n + 1));
  for (size_t k = 1; k < n; ++k)
    x = x << 6 | (byte(i + k) & 0x3f);
  cp = x;
  return n;
}

bool is_hidden_control(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e
         || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e)
         || (cp >= 0x2066 && cp <= 0x2069);
}

std::string terminal_safe(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    auto n = decode_utf8(text, i, cp);
    auto b = static_cast<unsigned char>(text[i]);
    if (n == 0 || cp < 0x20 || cp == 0x7f) {
      out += "\\x";
      out += hex[b >> 4];
      out += hex[b & 0xf];
      ++i;
    } else if (cp == '\\') {
      out += "\\\\";
      ++i;
    } else if (is_hidden_control(cp)) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4)
        out += hex[(cp >> shift) & 0xf];
      i += n;
    } else {
      out.append(text.data() + i, n);
      i += n;
    }
  }
  return out;
}

std::string terminal_safe_lines(std::string_view text) {
  std::string out;
  for (;;) {
    auto end = text.find('\n');
    out += terminal_safe(text.substr(0, end));
    if (end == std::string_view::npos)
      return out;
    out += '\n';
    text.remove_prefix(end + 1);
  }
}

std::string_view first_columns(std::string_view text, size_t columns) {
  size_t i = 0;
  for (; i < text.size() && columns > 0; --columns) {
    char32_t cp = 0;
    auto n = decode_utf8(text, i, cp);
    i += n == 0 ? 1 : n;
  }
  return text.substr(0, i);
}

size_t num_columns(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    char32_t cp = 0;
    auto n = decode_utf8(text, i, cp);
    i += n == 0 ? 1 : n;
  }
  return count;
}

} // namespace auditree
