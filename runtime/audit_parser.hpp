#pragma once

// Parsing of audit record text: headers, key=value fields, the kernel's
// encodings of untrusted strings, EXECVE argument reassembly and PROCTITLE.
// Pure: views into the caller's buffer, one copy where data leaves.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/audit_record.hpp"

namespace auditree {

/// A record parsed in place: `text` views the caller's buffer.
struct record_view {
  uint32_t type = 0;
  event_id id;
  std::string_view text;
  /// The `node=` prefix's name; empty for the local host.
  std::string_view node;

  /// The one copy: an owned record that may leave the parser.
  audit_record to_record() const {
    return audit_record{type, id, text, 0, node};
  }
};

/// The outcome of parsing one header. On failure `error` names the reason
/// and `record` is unspecified. A line that is no record but known not to
/// be one (ausearch's `----` separators and `time->` lines) sets `skipped`
/// instead, with its reason.
struct parse_result {
  record_view record;
  const char* error = nullptr;
  const char* skipped = nullptr;

  explicit operator bool() const { return error == nullptr && !skipped; }
};

/// Parses one line of audit.log text (RAW format, or ENRICHED: the
/// interpreted fields after 0x1d are dropped):
/// `[node=N ]type=NAME|NNNN|UNKNOWN[NNNN] msg=audit(SEC.MS:SERIAL): fields`.
/// The ':' after the stamp may be missing on daemon records (1200-1299),
/// as older auditd wrote some.
parse_result parse_line(std::string_view line);

/// The same, and values of plain-number and flag fields that a log shipper
/// quoted (`syscall="59"`, `success="yes"`) lose their quotes: the record's
/// text is then rewritten into `scratch`, which it views. Fields whose
/// quotes carry the kernel's meaning (untrusted strings: comm, exe, cwd,
/// name, EXECVE arguments, proctitle, key) are left as they are.
parse_result parse_line(std::string_view line, std::string& scratch);

/// Writes `text` of a record of `type` (SYSCALL, EXECVE or ANOM_ABEND: the
/// records process events are read from) to `out` with the quotes removed
/// from plain-number and flag fields; false (and `out` untouched) for
/// other types and when no such field is quoted.
bool unquote_plain_fields(uint32_t type, std::string_view text,
                          std::string& out);

/// Parses a netlink payload `audit(SEC.MS:SERIAL): fields` of record type
/// `type` (the netlink message type).
parse_result parse_payload(uint32_t type, std::string_view payload);

/// Iterates the `key=value` fields of a record's text. Values are raw:
/// quoted, hex or plain, as the kernel wrote them.
class field_cursor {
public:
  explicit field_cursor(std::string_view text) : rest_(text) {}

  /// Moves to the next field; false at the end of the text.
  bool next(std::string_view& key, std::string_view& value) {
    // Inline for the common `key=value` with a plain value (the interpreter
    // reads every field of the records it interprets); anything else, and
    // the end, go the general way.
    auto data = rest_.data();
    auto size = rest_.size();
    size_t begin = 0;
    while (begin < size && data[begin] == ' ')
      ++begin;
    auto eq = begin;
    while (eq < size && data[eq] != '=' && data[eq] != ' ')
      ++eq;
    if (eq == size || data[eq] == ' '
        || (eq + 1 < size && (data[eq + 1] == '"' || data[eq + 1] == '\'')))
      return next_general(key, value);
    auto end = eq + 1;
    while (end < size && data[end] != ' ')
      ++end;
    key = std::string_view{data + begin, eq - begin};
    value = std::string_view{data + eq + 1, end - eq - 1};
    rest_ = std::string_view{data + end, size - end};
    return true;
  }

private:
  bool next_general(std::string_view& key, std::string_view& value);

  std::string_view rest_;
};

/// The raw value of the first field named `key`, if any.
std::optional<std::string_view> find_field(std::string_view text,
                                           std::string_view key);

/// Parses a decimal (base 10) or hex (base 16) unsigned number.
std::optional<uint64_t> parse_unsigned(std::string_view raw, int base = 10);

/// Parses a decimal number with an optional leading '-'.
std::optional<int64_t> parse_signed(std::string_view raw);

/// Decodes a value the kernel logs as an untrusted string (comm, exe, cwd,
/// name, EXECVE arguments, proctitle): `"text"` stands for itself, an
/// unquoted value is hex, `(null)` and `(none)` mean no value (nullopt).
/// Invalid hex is nullopt too.
std::optional<std::string> decode_untrusted(std::string_view raw);

/// Decodes hex text (either case) into bytes; nullopt if not valid hex.
std::optional<std::string> decode_hex(std::string_view hex);

/// Splits a decoded PROCTITLE value at NUL bytes into arguments.
std::vector<std::string> split_proctitle(std::string_view decoded);

/// Reassembles argv from the EXECVE records of one event, fed in order.
/// Handles `argc=`, `aN=` and long arguments split as `aN_len=` plus
/// `aN[0]=`, `aN[1]=`, ... chunks that may straddle records.
class execve_reassembler {
public:
  /// Feeds the text of one EXECVE record. Returns false (and remembers the
  /// reason) if the record does not fit the arguments seen so far.
  bool add(std::string_view text);

  /// The arguments once every record was fed; `error()` tells if they are
  /// incomplete or inconsistent with `argc=`.
  std::vector<std::string> finish();

  /// Why the records did not reassemble, or nullptr.
  const char* error() const { return error_; }

private:
  bool fail(const char* reason);
  bool append_chunk(std::string_view raw);
  bool close_argument();

  std::optional<uint64_t> argc_;
  std::vector<std::string> args_;
  /// The long argument being assembled from chunks, still encoded.
  std::string pending_;
  uint64_t pending_len_ = 0;
  bool pending_open_ = false;
  bool pending_quoted_ = false;
  uint64_t next_chunk_ = 0;
  const char* error_ = nullptr;
};

} // namespace auditree
