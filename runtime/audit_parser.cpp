#include "runtime/audit_parser.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

#include "runtime/record_types.hpp"

namespace auditree {

namespace {

// The prefix is a literal: its length is known, so the compiler compares
// it in a few instructions instead of a loop or a call.
template <size_t N>
bool consume(std::string_view& s, const char (&prefix)[N]) {
  constexpr size_t length = N - 1;
  if (s.size() < length || std::memcmp(s.data(), prefix, length) != 0)
    return false;
  s.remove_prefix(length);
  return true;
}

// Reads digits up to (not including) `stop` and removes them and `stop`.
// One pass over the digits: every record's stamp holds three numbers.
template <class T>
bool consume_number(std::string_view& s, char stop, T& out) {
  constexpr uint64_t max = std::numeric_limits<T>::max();
  // Fewer digits than this cannot overflow T: no check for them.
  constexpr size_t safe_digits = std::numeric_limits<T>::digits10;
  uint64_t value = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    auto digit = static_cast<uint64_t>(s[i] - '0');
    if (i >= safe_digits
        && (value > max / 10 || (value == max / 10 && digit > max % 10)))
      return false;
    value = value * 10 + digit;
  }
  if (i == 0 || i == s.size() || s[i] != stop)
    return false;
  out = static_cast<T>(value);
  s.remove_prefix(i + 1);
  return true;
}

// 9999-12-31T23:59:59Z, the last second a four-digit year can show.
constexpr uint64_t max_stamp_seconds = 253402300799;

// The kernel's MAX_ARG_STRLEN (32 pages), hex-encoded: the longest aN_len
// real records carry.
constexpr uint64_t max_logged_arg_len = 2 * 32 * 4096;

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

} // namespace

parse_result parse_payload(uint32_t type, std::string_view payload) {
  parse_result result;
  auto& rec = result.record;
  rec.type = type;
  auto s = payload;
  if (!consume(s, "audit(")) {
    result.error = "missing audit( stamp";
    return result;
  }
  if (!consume_number(s, '.', rec.id.seconds)
      || !consume_number(s, ':', rec.id.millis)
      || !consume_number(s, ')', rec.id.serial)) {
    result.error = "malformed audit(SEC.MS:SERIAL) stamp";
    return result;
  }
  if (rec.id.millis > 999) {
    result.error = "milliseconds out of range";
    return result;
  }
  // No kernel clock reaches past 9999-12-31T23:59:59Z, and a stamp beyond
  // it has no RFC 3339 timestamp and overflows millisecond arithmetic.
  if (rec.id.seconds > max_stamp_seconds) {
    result.error = "seconds out of range";
    return result;
  }
  // auditd before 2.6 wrote some daemon records (1200-1299) with no ':'
  // after the stamp (`audit(1490239800.477:34) config changed, ...`); the
  // kernel's records always have it.
  bool daemon = record_types::is_daemon(type);
  if (!consume(s, ":") && !(daemon && !s.empty() && s.front() == ' ')) {
    result.error = "missing ':' after stamp";
    return result;
  }
  // The space belongs to the header; a continuation EXECVE record keeps its
  // own leading space.
  consume(s, " ");
  // Kernel payloads may end with NUL, newline or space bytes.
  while (!s.empty()
         && (s.back() == '\0' || s.back() == '\n' || s.back() == ' '))
    s.remove_suffix(1);
  rec.text = s;
  return result;
}

parse_result parse_line(std::string_view line) {
  parse_result result;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.remove_suffix(1);
  // ENRICHED format appends interpreted fields after a 0x1d byte.
  if (auto gs = line.find('\x1d'); gs != std::string_view::npos)
    line = line.substr(0, gs);
  // auditd may prefix the node name (name_format), and so does every
  // collector that receives several hosts' records.
  std::string_view node;
  if (consume(line, "node=")) {
    auto sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0) {
      result.error = "node= without record";
      return result;
    }
    node = line.substr(0, sp);
    line.remove_prefix(sp + 1);
  }
  if (!consume(line, "type=")) {
    // ausearch's default output separates events with these.
    if (line.rfind("----", 0) == 0)
      result.skipped = "ausearch separator";
    else if (line.rfind("time->", 0) == 0)
      result.skipped = "ausearch time line";
    else
      result.error = "missing type=";
    return result;
  }
  auto sp = line.find(' ');
  if (sp == std::string_view::npos) {
    result.error = "missing msg= after type";
    return result;
  }
  auto name = line.substr(0, sp);
  line.remove_prefix(sp + 1);
  std::optional<uint32_t> type;
  if (!name.empty() && name.front() >= '0' && name.front() <= '9') {
    // Range-checked: a plain assignment would truncate 2^32 to 0.
    if (auto n = parse_unsigned(name); n && *n <= UINT32_MAX)
      type = static_cast<uint32_t>(*n);
  } else {
    type = record_types::number(name);
  }
  if (!type) {
    result.error = "unknown record type";
    return result;
  }
  if (!consume(line, "msg=")) {
    result.error = "missing msg=";
    return result;
  }
  result = parse_payload(*type, line);
  result.record.node = node;
  return result;
}

namespace {

// Fields the kernel writes as plain numbers or flags, never as quoted
// untrusted strings: a quote around them is a shipper's, not the kernel's.
// a0..a3 are numbers in SYSCALL, but arguments (strings) in EXECVE.
bool is_plain_field(uint32_t type, std::string_view key) {
  // The strings every kernel record quotes, answered first.
  if (key == "comm" || key == "exe" || key == "key" || key == "name"
      || key == "cwd")
    return false;
  static constexpr std::string_view plain[] = {
    "arch",  "syscall", "success", "exit", "items", "ppid", "pid",
    "auid",  "uid",     "gid",     "euid", "suid",  "fsuid", "egid",
    "sgid",  "fsgid",   "tty",     "ses",  "per",   "sig",  "res",
    "argc",  "item",    "inode",   "dev",  "mode",  "ouid", "ogid",
    "rdev",  "nametype", "old-auid", "old-ses"};
  for (auto k : plain)
    if (k == key)
      return true;
  if (key.size() >= 2 && key.front() == 'a' && key[1] >= '0'
      && key[1] <= '9') {
    if (type == record_types::syscall)
      return key.size() == 2;
    auto len = std::string_view{"_len"};
    return key.size() > len.size()
           && key.substr(key.size() - len.size()) == len;
  }
  return false;
}

} // namespace

bool unquote_plain_fields(uint32_t type, std::string_view text,
                          std::string& out) {
  // Only the records whose numbers make process events; the rest are
  // passed on as they came.
  if (type != record_types::syscall && type != record_types::execve
      && type != record_types::anom_abend)
    return false;
  // Cheap test first: a kernel record quotes only a few string fields, and
  // a search for one byte is a vectorised memchr.
  bool any = false;
  for (auto q = text.find('"'); q != std::string_view::npos;
       q = text.find('"', q + 1)) {
    if (q == 0 || text[q - 1] != '=')
      continue;
    auto start = text.rfind(' ', q);
    start = start == std::string_view::npos ? 0 : start + 1;
    if (is_plain_field(type, text.substr(start, q - 1 - start))) {
      any = true;
      break;
    }
  }
  if (!any)
    return false;
  out.clear();
  field_cursor cursor{text};
  std::string_view key;
  std::string_view value;
  while (cursor.next(key, value)) {
    if (!out.empty())
      out += ' ';
    out.append(key);
    if (value.data() == nullptr)
      continue; // A word without '=' (daemon and user messages).
    out += '=';
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"'
        && is_plain_field(type, key))
      value = value.substr(1, value.size() - 2);
    out.append(value);
  }
  return true;
}

parse_result parse_line(std::string_view line, std::string& scratch) {
  auto result = parse_line(line);
  if (result
      && unquote_plain_fields(result.record.type, result.record.text,
                              scratch))
    result.record.text = scratch;
  return result;
}

bool field_cursor::next_general(std::string_view& key,
                                std::string_view& value) {
  while (!rest_.empty() && rest_.front() == ' ')
    rest_.remove_prefix(1);
  if (rest_.empty())
    return false;
  // Keys are short: one pass to the first '=' or ' ' beats two searches.
  size_t eq = 0;
  while (eq < rest_.size() && rest_[eq] != '=' && rest_[eq] != ' ')
    ++eq;
  if (eq == rest_.size() || rest_[eq] == ' ') {
    // A word without '=' (seen in some user messages): a key with no value.
    key = rest_.substr(0, eq);
    value = {};
    rest_.remove_prefix(eq);
    return true;
  }
  key = rest_.substr(0, eq);
  rest_.remove_prefix(eq + 1);
  size_t end;
  if (!rest_.empty() && (rest_.front() == '"' || rest_.front() == '\'')) {
    // Quoted values end at the matching quote (user messages nest
    // msg='...' with spaces inside).
    auto close = rest_.find(rest_.front(), 1);
    end = close == std::string_view::npos ? rest_.size() : close + 1;
  } else {
    // Plain values are short: a loop beats a call to memchr.
    end = 0;
    while (end < rest_.size() && rest_[end] != ' ')
      ++end;
  }
  value = rest_.substr(0, end);
  rest_.remove_prefix(end);
  return true;
}

std::optional<std::string_view> find_field(std::string_view text,
                                           std::string_view key) {
  field_cursor cursor{text};
  std::string_view k;
  std::string_view v;
  while (cursor.next(k, v))
    if (k == key)
      return v;
  return std::nullopt;
}

namespace {

// std::from_chars for the two bases of audit records, without its generic
// overhead (every record carries a dozen numbers): the same digits, no sign
// or prefix, and nullopt on overflow.
template <unsigned Base>
std::optional<uint64_t> parse_digits(std::string_view raw) {
  // Up to this many digits cannot overflow: 10^19 - 1 and 16^16 - 1 fit.
  constexpr size_t max_safe_digits = Base == 10 ? 19 : 16;
  constexpr uint64_t max_before_last = UINT64_MAX / Base;
  constexpr uint64_t max_last = UINT64_MAX % Base;
  auto digit = [](char c) {
    return Base == 10 ? static_cast<unsigned>(c - '0')
                      : static_cast<unsigned>(hex_digit(c));
  };
  if (raw.empty())
    return std::nullopt;
  uint64_t result = 0;
  if (raw.size() <= max_safe_digits) {
    for (char c : raw) {
      auto d = digit(c);
      if (d >= Base)
        return std::nullopt;
      result = result * Base + d;
    }
    return result;
  }
  for (char c : raw) {
    auto d = digit(c);
    if (d >= Base)
      return std::nullopt;
    if (result > max_before_last || (result == max_before_last && d > max_last))
      return std::nullopt;
    result = result * Base + d;
  }
  return result;
}

} // namespace

std::optional<uint64_t> parse_unsigned(std::string_view raw, int base) {
  if (base == 10)
    return parse_digits<10>(raw);
  if (base == 16)
    return parse_digits<16>(raw);
  uint64_t result = 0;
  if (raw.empty())
    return std::nullopt;
  auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(),
                                   result, base);
  if (ec != std::errc{} || ptr != raw.data() + raw.size())
    return std::nullopt;
  return result;
}

std::optional<int64_t> parse_signed(std::string_view raw) {
  int64_t result = 0;
  if (raw.empty())
    return std::nullopt;
  auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(),
                                   result);
  if (ec != std::errc{} || ptr != raw.data() + raw.size())
    return std::nullopt;
  return result;
}

std::optional<std::string> decode_hex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return std::nullopt;
  std::string result;
  result.resize(hex.size() / 2);
  for (size_t i = 0; i < result.size(); ++i) {
    auto hi = hex_digit(hex[2 * i]);
    auto lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    result[i] = static_cast<char>(hi * 16 + lo);
  }
  return result;
}

std::optional<std::string> decode_untrusted(std::string_view raw) {
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"')
    return std::string{raw.substr(1, raw.size() - 2)};
  if (raw == "(null)" || raw == "(none)")
    return std::nullopt;
  return decode_hex(raw);
}

std::vector<std::string> split_proctitle(std::string_view decoded) {
  std::vector<std::string> result;
  while (!decoded.empty() && decoded.back() == '\0')
    decoded.remove_suffix(1);
  if (decoded.empty())
    return result;
  size_t start = 0;
  for (;;) {
    auto nul = decoded.find('\0', start);
    result.emplace_back(decoded.substr(start, nul - start));
    if (nul == std::string_view::npos)
      break;
    start = nul + 1;
  }
  return result;
}

bool execve_reassembler::fail(const char* reason) {
  if (error_ == nullptr)
    error_ = reason;
  return false;
}

bool execve_reassembler::append_chunk(std::string_view raw) {
  bool quoted = raw.size() >= 2 && raw.front() == '"' && raw.back() == '"';
  if (next_chunk_ > 0 && quoted != pending_quoted_)
    return fail("argument chunks mix quoted and hex");
  pending_quoted_ = quoted;
  // The length counts characters as logged, quotes excluded.
  pending_.append(quoted ? raw.substr(1, raw.size() - 2) : raw);
  ++next_chunk_;
  if (pending_.size() > pending_len_)
    return fail("argument longer than its aN_len");
  if (pending_.size() == pending_len_)
    return close_argument();
  return true;
}

bool execve_reassembler::close_argument() {
  pending_open_ = false;
  if (pending_quoted_) {
    args_.push_back(std::move(pending_));
  } else if (auto bytes = decode_hex(pending_)) {
    args_.push_back(std::move(*bytes));
  } else {
    args_.emplace_back();
    fail("invalid hex in argument");
  }
  pending_.clear();
  return error_ == nullptr;
}

bool execve_reassembler::add(std::string_view text) {
  field_cursor cursor{text};
  std::string_view key;
  std::string_view value;
  while (cursor.next(key, value)) {
    if (key == "argc") {
      if (argc_ || !args_.empty())
        return fail("argc= after arguments");
      argc_ = parse_unsigned(value);
      if (!argc_)
        return fail("invalid argc=");
      continue;
    }
    if (key.size() < 2 || key.front() != 'a')
      return fail("unexpected field in EXECVE record");
    // aN=, aN_len= or aN[i]=
    auto rest = key.substr(1);
    auto digits_end = rest.find_first_not_of("0123456789");
    auto index = parse_unsigned(rest.substr(0, digits_end));
    if (!index)
      return fail("malformed argument name");
    auto suffix = digits_end == std::string_view::npos
                    ? std::string_view{}
                    : rest.substr(digits_end);
    if (suffix.empty()) {
      if (pending_open_ || *index != args_.size())
        return fail("argument out of order");
      auto arg = decode_untrusted(value);
      if (!arg && value != "(null)")
        return fail("invalid argument encoding");
      args_.push_back(arg ? std::move(*arg) : std::string{});
    } else if (suffix == "_len") {
      if (pending_open_ || *index != args_.size())
        return fail("argument out of order");
      auto len = parse_unsigned(value);
      if (!len)
        return fail("invalid aN_len=");
      pending_open_ = true;
      pending_len_ = *len;
      next_chunk_ = 0;
      pending_.clear();
      // aN_len is untrusted: reserve no more than real chunks can fill.
      pending_.reserve(std::min(*len, max_logged_arg_len));
      if (*len == 0 && !close_argument())
        return false;
    } else if (suffix.front() == '[' && suffix.back() == ']') {
      auto chunk = parse_unsigned(suffix.substr(1, suffix.size() - 2));
      if (!pending_open_ || *index != args_.size() || !chunk
          || *chunk != next_chunk_)
        return fail("argument chunk out of order");
      if (!append_chunk(value))
        return false;
    } else {
      return fail("malformed argument name");
    }
  }
  return error_ == nullptr;
}

std::vector<std::string> execve_reassembler::finish() {
  if (pending_open_)
    fail("argument cut short");
  else if (!argc_)
    fail("missing argc=");
  else if (*argc_ > args_.size())
    fail("fewer arguments than argc=");
  else if (*argc_ < args_.size())
    fail("more arguments than argc=");
  return std::move(args_);
}

} // namespace auditree
