// Datagrams from the proc connector socket, back to back as one recv()
// buffer holds them: each is as long as its nlmsghdr's nlmsg_len says
// (clamped to what is left, at least one byte), padded to 4 bytes. One
// decoder sees them all, so per-CPU sequence tracking is exercised too.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "runtime/ecs_json.hpp"
#include "runtime/proc_connector.hpp"

using namespace auditree;
using auditree::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  proc_connector_decoder aut;
  // A fixed, advancing time: the harness never reads the clock.
  uint64_t now_ms = 1795990173000;
  uint64_t num_datagrams = 0;
  for (size_t offset = 0; offset < size;) {
    auto left = size - offset;
    uint32_t declared = 0;
    if (left >= sizeof(declared))
      std::memcpy(&declared, data + offset, sizeof(declared));
    size_t len = declared == 0 || declared > left ? left : declared;
    // An exact-size copy, so ASan sees any read past the datagram.
    std::string datagram{reinterpret_cast<const char*>(data + offset), len};
    offset += (len + 3) & ~size_t{3};
    auto before = aut.stats();
    auto ev = aut.decode(datagram.data(), datagram.size(), now_ms);
    ++num_datagrams;
    auto after = aut.stats();
    check(after.num_messages + after.num_malformed == num_datagrams,
          "each datagram is a message or malformed");
    check(after.num_gaps >= before.num_gaps, "gaps only grow");
    if (ev) {
      check(after.num_messages == before.num_messages + 1,
            "an event comes from a well-formed message");
      check(ev->source == fact_source::proc_connector, "source");
      check(ev->id.seconds == now_ms / 1000 && ev->id.millis == now_ms % 1000,
            "stamped with the receive time");
      check(ev->signal >= 0 && ev->signal < 128, "signal in range");
      check(ev->exit_code >= 0 && ev->exit_code < 256, "exit code in range");
      std::string line;
      append_ecs_json(line, *ev);
      check(fuzz::valid_json_line(line), "append_ecs_json writes JSON");
    }
    now_ms += 7;
  }
  return 0;
}
