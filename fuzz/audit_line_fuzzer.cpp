// One line of audit.log text from anywhere: a replayed file, stdin, or a
// netlink payload. parse_line, then every field through field_cursor,
// decode_untrusted and, for proctitle=, split_proctitle.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "runtime/audit_parser.hpp"

using namespace auditree;
using auditree::fuzz::check;

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data()
         && part.data() + part.size() <= whole.data() + whole.size();
}

// Walks the fields of `text`; every key and value views `text`, and each
// step consumes at least one byte, so the walk ends.
void walk_fields(std::string_view text) {
  field_cursor cursor{text};
  std::string_view key;
  std::string_view value;
  size_t num_fields = 0;
  while (cursor.next(key, value)) {
    check(++num_fields <= text.size(), "field_cursor makes progress");
    check(key.empty() || inside(key, text), "key views the text");
    check(value.empty() || inside(value, text), "value views the text");
    parse_unsigned(value);
    parse_unsigned(value, 16);
    parse_signed(value);
    auto decoded = decode_untrusted(value);
    if (!decoded)
      continue;
    if (value.empty() || value.front() != '"')
      check(decoded->size() * 2 == value.size(), "hex decodes to half");
    if (key != "proctitle")
      continue;
    auto args = split_proctitle(*decoded);
    // Joined at NUL again, the arguments are the title less trailing NULs.
    std::string joined;
    for (size_t i = 0; i < args.size(); ++i) {
      if (i > 0)
        joined += '\0';
      joined += args[i];
    }
    auto title = std::string_view{*decoded};
    while (!title.empty() && title.back() == '\0')
      title.remove_suffix(1);
    check(joined == title, "split_proctitle splits at NUL only");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line{reinterpret_cast<const char*>(data), size};
  // Garbage goes through the cursor too: find_field runs on any text a
  // record carries.
  walk_fields(line);
  std::string scratch;
  auto unquoted = parse_line(line, scratch);
  check(!unquoted == !parse_line(line), "unquoting never changes a verdict");
  auto parsed = parse_line(line);
  if (!parsed) {
    auto reason = parsed.error ? parsed.error : parsed.skipped;
    check(reason != nullptr && reason[0] != '\0',
          "a failure or a skip names its reason");
    return 0;
  }
  auto& rec = parsed.record;
  check(rec.text.empty() || inside(rec.text, line), "text views the line");
  check(rec.id.millis <= 999, "milliseconds in range");
  auto owned = rec.to_record();
  check(owned.text() == rec.text && owned.id == rec.id
          && owned.type == rec.type,
        "to_record copies the view");
  walk_fields(rec.text);
  return 0;
}
