// A stream of audit.log lines through the whole pure pipeline: parse_line,
// event_assembler (time advancing as the input says), interpret, and
// append_ecs_json. The input:
//
//   #500 4 1                      optional first line: timeout in ms,
//                                 max_open, stride (defaults 500 4 1)
//   type=SYSCALL msg=audit(...    a record; the clock moves by the line's
//                                 length % 8 ms before it is added
//   @250                          the clock moves by 250 ms, then expire()
//
// Lines that do not parse are skipped, as the sources count and skip them.
// The stream ends with flush().

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "runtime/audit_parser.hpp"
#include "runtime/ecs_json.hpp"
#include "runtime/event_assembler.hpp"
#include "runtime/event_interpreter.hpp"
#include "runtime/record_types.hpp"

using namespace auditree;
using auditree::fuzz::check;
using std::chrono::milliseconds;

namespace {

using record_key =
    std::tuple<uint64_t, uint32_t, uint32_t, uint32_t, std::string>;

record_key key_of(const audit_record& r) {
  return {r.id.seconds, r.id.millis, r.id.serial, r.type,
          std::string{r.text()}};
}

uint64_t number_or(std::string_view raw, uint64_t fallback, uint64_t lo,
                   uint64_t hi) {
  auto n = parse_unsigned(raw);
  return n ? std::clamp(*n, lo, hi) : fallback;
}

event_assembler::options read_options(std::string_view line) {
  event_assembler::options opts;
  opts.max_open = 4;
  field_cursor words{line.substr(1)};
  std::string_view word;
  std::string_view ignored;
  if (words.next(word, ignored))
    opts.timeout = milliseconds{number_or(word, 500, 0, 10'000)};
  if (words.next(word, ignored))
    opts.max_open = number_or(word, 4, 1, 64);
  if (words.next(word, ignored))
    opts.stride = static_cast<uint32_t>(number_or(word, 1, 1, 8));
  return opts;
}

// `{"@timestamp":"YYYY-MM-DDTHH:MM:SS.mmmZ"`: RFC 3339, as documented.
bool has_rfc3339_timestamp(std::string_view line) {
  constexpr std::string_view prefix = "{\"@timestamp\":\"";
  constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.dddZ\"";
  if (line.substr(0, prefix.size()) != prefix)
    return false;
  auto ts = line.substr(prefix.size(), shape.size());
  if (ts.size() != shape.size())
    return false;
  for (size_t i = 0; i < shape.size(); ++i) {
    bool ok =
        shape[i] == 'd' ? ts[i] >= '0' && ts[i] <= '9' : ts[i] == shape[i];
    if (!ok)
      return false;
  }
  return true;
}

void check_output(const audit_event& ev) {
  auto result = interpret(ev);
  if (!result.event)
    return;
  auto& pe = *result.event;
  check(pe.id == ev.id, "a process event keeps its stamp");
  check(pe.pid > 0, "a process event has a pid");
  check(pe.action != process_action::fork || pe.child > 0,
        "a fork has a child");
  std::string line;
  append_ecs_json(line, pe);
  check(fuzz::valid_json_line(line), "append_ecs_json writes one JSON line");
  check(has_rfc3339_timestamp(line), "@timestamp is RFC 3339");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  event_assembler::options opts;
  opts.max_open = 4;
  if (!input.empty() && input.front() == '#') {
    auto eol = input.find('\n');
    opts = read_options(input.substr(0, eol));
    input.remove_prefix(eol == std::string_view::npos ? input.size() : eol + 1);
  }
  event_assembler aut{opts};
  // A fixed origin: the harness never reads the clock.
  event_assembler::time_point now{};
  std::vector<audit_event> closed;
  std::vector<record_key> added;
  auto check_open = [&] {
    check(aut.num_open() <= opts.max_open, "at most max_open events open");
    check(aut.next_deadline().has_value() == (aut.num_open() > 0),
          "a deadline exactly while events are open");
  };
  for (size_t start = 0; start < input.size();) {
    auto end = input.find('\n', start);
    if (end == std::string_view::npos)
      end = input.size();
    auto line = input.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.front() == '@') {
      now += milliseconds{number_or(line.substr(1), 0, 0, 1'000'000)};
      aut.expire(now, closed);
      auto next = aut.next_deadline();
      check(!next || *next > now, "expire() closes all that are due");
      check_open();
      continue;
    }
    now += milliseconds{line.size() % 8};
    auto parsed = parse_line(line);
    if (!parsed)
      continue;
    auto record = parsed.record.to_record();
    added.push_back(key_of(record));
    aut.add(std::move(record), now, closed);
    check_open();
  }
  aut.flush(closed);
  check(aut.num_open() == 0, "flush() closes every event");
  check(!aut.next_deadline(), "no deadline after flush()");
  auto stats = aut.stats();
  check(stats.num_records == added.size(), "every record counted");
  check(stats.num_events == closed.size(), "every event opened is closed");
  check(stats.num_closed_by_eoe + stats.num_closed_standalone
                + stats.num_closed_by_timeout
            == closed.size(),
        "every close counted once");
  check(stats.num_evicted <= stats.num_closed_by_timeout,
        "evictions are timeouts");
  uint64_t num_eoe = 0;
  uint64_t num_standalone = 0;
  std::vector<record_key> assembled;
  for (auto& ev : closed) {
    check(!ev.records.empty(), "no event without records");
    for (size_t i = 0; i < ev.records.size(); ++i) {
      auto& r = ev.records[i];
      check(r.id == ev.id, "an event's records share its stamp");
      bool last = i + 1 == ev.records.size();
      check(r.type != record_types::eoe
                || (last && ev.closed_by == close_reason::eoe),
            "EOE only ends an event it closed");
      assembled.push_back(key_of(r));
    }
    switch (ev.closed_by) {
    case close_reason::eoe:
      ++num_eoe;
      check(ev.records.back().type == record_types::eoe,
            "closed by EOE ends with EOE");
      break;
    case close_reason::standalone:
      ++num_standalone;
      check(ev.records.size() == 1
                && record_types::is_standalone(ev.records[0].type),
            "a standalone event is its one record");
      break;
    case close_reason::timeout:
      break;
    }
    check_output(ev);
  }
  check(num_eoe == stats.num_closed_by_eoe, "EOE closes counted");
  check(num_standalone == stats.num_closed_standalone,
        "standalone closes counted");
  // Nothing lost, nothing duplicated, nothing altered.
  std::sort(added.begin(), added.end());
  std::sort(assembled.begin(), assembled.end());
  check(added == assembled, "the events hold exactly the records added");
  return 0;
}
