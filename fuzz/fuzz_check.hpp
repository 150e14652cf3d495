#pragma once

// What the fuzz targets share: a check that stops the run when an invariant
// breaks, and a strict JSON validator for the lines the agent emits.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace auditree::fuzz {

/// Stops the run with the broken invariant's text: libFuzzer saves the
/// input that broke it as a crash.
inline void check(bool ok, const char* what) {
  if (ok)
    return;
  std::fprintf(stderr, "fuzz: invariant broken: %s\n", what);
  std::abort();
}

/// A strict JSON (RFC 8259) reader that only says whether `text` is one
/// value, in valid UTF-8. Consumers of the ECS lines (Elasticsearch, jq)
/// reject the whole line otherwise.
class json_validator {
public:
  explicit json_validator(std::string_view text) : s_(text) {}

  bool valid() {
    if (!value(0))
      return false;
    skip_space();
    return i_ == s_.size();
  }

private:
  // Deeper than the agent ever nests; guards the recursion on garbage.
  static constexpr int max_depth = 32;

  unsigned char peek() const {
    return i_ < s_.size() ? static_cast<unsigned char>(s_[i_]) : 0;
  }

  bool eat(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  void skip_space() {
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

  bool value(int depth) {
    if (depth > max_depth)
      return false;
    skip_space();
    switch (peek()) {
    case '{':
      return object(depth);
    case '[':
      return array(depth);
    case '"':
      return string();
    case 't':
      return literal("true");
    case 'f':
      return literal("false");
    case 'n':
      return literal("null");
    default:
      return number();
    }
  }

  bool object(int depth) {
    ++i_;
    if (eat('}'))
      return true;
    do {
      skip_space();
      if (peek() != '"' || !string() || !eat(':') || !value(depth + 1))
        return false;
    } while (eat(','));
    return eat('}');
  }

  bool array(int depth) {
    ++i_;
    if (eat(']'))
      return true;
    do {
      if (!value(depth + 1))
        return false;
    } while (eat(','));
    return eat(']');
  }

  bool digits() {
    auto start = i_;
    while (peek() >= '0' && peek() <= '9')
      ++i_;
    return i_ > start;
  }

  bool number() {
    if (peek() == '-')
      ++i_;
    if (peek() == '0')
      ++i_;
    else if (!digits())
      return false;
    if (peek() == '.') {
      ++i_;
      if (!digits())
        return false;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (peek() == '+' || peek() == '-')
        ++i_;
      if (!digits())
        return false;
    }
    return true;
  }

  bool string() {
    ++i_;
    while (i_ < s_.size()) {
      auto c = peek();
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20)
        return false;
      if (c == '\\') {
        ++i_;
        auto e = peek();
        if (e == 'u') {
          for (int k = 1; k <= 4; ++k)
            if (i_ + k >= s_.size() || !is_hex(s_[i_ + k]))
              return false;
          i_ += 5;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f'
                   || e == 'n' || e == 'r' || e == 't') {
          ++i_;
        } else {
          return false;
        }
        continue;
      }
      if (!utf8())
        return false;
    }
    return false;
  }

  static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
           || (c >= 'A' && c <= 'F');
  }

  // One UTF-8 sequence: shortest form, no surrogates, at most U+10FFFF.
  bool utf8() {
    auto c = peek();
    auto cont = [&](size_t k) {
      return i_ + k < s_.size()
             && (static_cast<unsigned char>(s_[i_ + k]) & 0xc0) == 0x80;
    };
    auto at = [&](size_t k) { return static_cast<unsigned char>(s_[i_ + k]); };
    size_t n;
    if (c < 0x80) {
      n = 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
    } else {
      return false;
    }
    for (size_t k = 1; k < n; ++k)
      if (!cont(k))
        return false;
    if ((c == 0xe0 && at(1) < 0xa0) || (c == 0xed && at(1) > 0x9f)
        || (c == 0xf0 && at(1) < 0x90) || (c == 0xf4 && at(1) > 0x8f))
      return false;
    i_ += n;
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

/// True if `line` is one JSON object followed by exactly one newline.
inline bool valid_json_line(std::string_view line) {
  if (line.empty() || line.back() != '\n' || line.front() != '{')
    return false;
  line.remove_suffix(1);
  if (line.find('\n') != std::string_view::npos)
    return false;
  return json_validator{line}.valid();
}

} // namespace auditree::fuzz
