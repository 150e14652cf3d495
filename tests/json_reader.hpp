#pragma once

// Checks the JSON the agent writes; shared by the tests and the fuzz targets.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace auditree::test {

/// A strict JSON (RFC 8259) reader, just enough to check the agent's
/// output: it accepts one value and decodes strings, so a test can compare
/// them with what went in. Consumers of the ECS lines (Elasticsearch, jq)
/// reject a whole line that is not valid.
class json_reader {
public:
  explicit json_reader(std::string_view text) : s_(text) {}

  /// True if the whole text is one JSON value (objects without duplicate
  /// keys, strings of valid UTF-8).
  bool valid() {
    ws();
    if (!value())
      return false;
    ws();
    return i_ == s_.size();
  }

  /// Decodes a text that is one JSON string.
  std::optional<std::string> string() {
    std::string out;
    if (!read_string(out) || i_ != s_.size())
      return std::nullopt;
    return out;
  }

private:
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  void ws() {
    while (i_ < s_.size()
           && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n'
               || s_[i_] == '\r'))
      ++i_;
  }

  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word)
      return false;
    i_ += word.size();
    return true;
  }

  bool value() {
    if (i_ >= s_.size() || ++depth_ > 64)
      return false;
    bool ok;
    switch (s_[i_]) {
    case '{':
      ok = object();
      break;
    case '[':
      ok = array();
      break;
    case '"': {
      std::string ignored;
      ok = read_string(ignored);
      break;
    }
    case 't':
      ok = literal("true");
      break;
    case 'f':
      ok = literal("false");
      break;
    case 'n':
      ok = literal("null");
      break;
    default:
      ok = number();
    }
    --depth_;
    return ok;
  }

  bool object() {
    eat('{');
    ws();
    std::set<std::string> keys;
    if (eat('}'))
      return true;
    for (;;) {
      ws();
      std::string key;
      if (!read_string(key) || !keys.insert(key).second)
        return false;
      ws();
      if (!eat(':'))
        return false;
      ws();
      if (!value())
        return false;
      ws();
      if (eat('}'))
        return true;
      if (!eat(','))
        return false;
    }
  }

  bool array() {
    eat('[');
    ws();
    if (eat(']'))
      return true;
    for (;;) {
      ws();
      if (!value())
        return false;
      ws();
      if (eat(']'))
        return true;
      if (!eat(','))
        return false;
    }
  }

  bool digits() {
    auto start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
      ++i_;
    return i_ > start;
  }

  bool number() {
    eat('-');
    if (eat('0')) {
      // No leading zeros.
    } else if (i_ < s_.size() && s_[i_] >= '1' && s_[i_] <= '9') {
      digits();
    } else {
      return false;
    }
    if (eat('.') && !digits())
      return false;
    if (eat('e') || eat('E')) {
      if (!eat('+'))
        eat('-');
      if (!digits())
        return false;
    }
    return true;
  }

  bool hex4(uint32_t& out) {
    if (i_ + 4 > s_.size())
      return false;
    out = 0;
    for (int k = 0; k < 4; ++k) {
      auto c = s_[i_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= c - '0';
      else if (c >= 'a' && c <= 'f')
        out |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        out |= c - 'A' + 10;
      else
        return false;
    }
    return true;
  }

  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  // One UTF-8 sequence of raw text, checked by code point ranges.
  bool utf8(std::string& out) {
    auto b = [this](size_t k) { return static_cast<unsigned char>(s_[k]); };
    auto c = b(i_);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      n = 1;
      cp = c;
    } else if (c >= 0xc0 && c < 0xe0) {
      n = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c < 0xf0) {
      n = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c < 0xf8) {
      n = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i_ + n > s_.size())
      return false;
    for (size_t k = 1; k < n; ++k) {
      if ((b(i_ + k) & 0xc0) != 0x80)
        return false;
      cp = cp << 6 | (b(i_ + k) & 0x3f);
    }
    static constexpr uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    out.append(s_.substr(i_, n));
    i_ += n;
    return true;
  }

  bool read_string(std::string& out) {
    if (!eat('"'))
      return false;
    for (;;) {
      if (i_ >= s_.size())
        return false;
      auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20)
        return false;
      if (c != '\\') {
        if (!utf8(out))
          return false;
        continue;
      }
      ++i_;
      if (i_ >= s_.size())
        return false;
      switch (s_[i_++]) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t cp;
        if (!hex4(cp))
          return false;
        if (cp >= 0xd800 && cp <= 0xdbff) {
          uint32_t lo;
          if (!literal("\\u") || !hex4(lo) || lo < 0xdc00 || lo > 0xdfff)
            return false;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
          return false;
        }
        put_utf8(out, cp);
        break;
      }
      default:
        return false;
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

} // namespace auditree::test
