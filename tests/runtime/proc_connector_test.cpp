// The proc connector's datagrams, built as the kernel sends them
// (nlmsghdr, cn_msg, proc_event), through proc_connector_decoder.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <string>

#include "runtime/proc_connector.hpp"

using namespace auditree;

namespace {

std::string datagram(const proc_event& ev, uint32_t seq) {
  std::string out(NLMSG_HDRLEN + sizeof(cn_msg) + sizeof(proc_event), '\0');
  cn_msg msg{};
  msg.id.idx = CN_IDX_PROC;
  msg.id.val = CN_VAL_PROC;
  msg.seq = seq;
  msg.len = sizeof(proc_event);
  std::memcpy(out.data() + NLMSG_HDRLEN, &msg, sizeof(msg));
  std::memcpy(out.data() + NLMSG_HDRLEN + sizeof(cn_msg), &ev, sizeof(ev));
  return out;
}

proc_event comm_event(int pid, int tgid, const char* comm) {
  proc_event ev{};
  ev.what = proc_event::PROC_EVENT_COMM;
  ev.event_data.comm.process_pid = pid;
  ev.event_data.comm.process_tgid = tgid;
  auto& out = ev.event_data.comm.comm;
  std::memcpy(out, comm, std::min(std::strlen(comm), sizeof(out)));
  return ev;
}

} // namespace

TEST_CASE("a process's new name is a rename; a thread's is not",
          "[proc_connector]") {
  proc_connector_decoder decoder;
  // busybox, exec'd as /proc/self/exe, names itself after its applet.
  auto d = datagram(comm_event(4010, 4010, "sleep"), 1);
  auto ev = decoder.decode(d.data(), d.size(), 1'795'990'194'560);
  REQUIRE(ev);
  CHECK(ev->action == process_action::rename);
  CHECK(ev->source == fact_source::proc_connector);
  CHECK(ev->pid == 4010);
  CHECK(ev->comm == "sleep");
  CHECK(ev->id.seconds == 1'795'990'194);
  CHECK(ev->id.millis == 560);
  // A full 16-byte name has no NUL: 16 bytes, no more.
  auto full = datagram(comm_event(4011, 4011, "0123456789abcdefXYZ"), 2);
  auto long_name = decoder.decode(full.data(), full.size(), 0);
  REQUIRE(long_name);
  CHECK(long_name->comm == "0123456789abcdef");
  // A Java thread naming itself.
  auto thread = datagram(comm_event(4020, 4012, "GC Thread#0"), 3);
  CHECK_FALSE(decoder.decode(thread.data(), thread.size(), 0));
  CHECK(decoder.stats().num_thread_events == 1);
  CHECK(decoder.stats().num_gaps == 0);
}
