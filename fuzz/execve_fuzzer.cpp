// The EXECVE records of one event, as the interpreter feeds them: the input
// is their texts (after `audit(...): `), one per line, in arrival order.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "runtime/audit_parser.hpp"

using namespace auditree;
using auditree::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  execve_reassembler args;
  std::optional<uint64_t> argc;
  for (size_t start = 0; start <= input.size();) {
    auto end = input.find('\n', start);
    if (end == std::string_view::npos)
      end = input.size();
    auto text = input.substr(start, end - start);
    start = end + 1;
    if (!argc)
      if (auto raw = find_field(text, "argc"))
        argc = parse_unsigned(*raw);
    auto before = args.error();
    auto ok = args.add(text);
    check(ok == (args.error() == nullptr), "add() tells its error");
    check(before == nullptr || args.error() == before, "the error sticks");
  }
  auto before = args.error();
  auto argv = args.finish();
  check(before == nullptr || args.error() == before, "the error sticks");
  if (args.error() != nullptr)
    return 0;
  check(argc && *argc == argv.size(), "argv has argc= arguments");
  // Decoding only shrinks: quotes drop, hex halves.
  size_t total = 0;
  for (auto& arg : argv)
    total += arg.size();
  check(total <= input.size(), "arguments no longer than their records");
  return 0;
}
