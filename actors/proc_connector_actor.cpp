#include "actors/proc_connector_actor.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/fault.hpp"
#include "messages/type_ids.hpp"
#include "actors/ownership_checks.hpp"
#include "runtime/terminal_text.hpp"
#include "runtime/log.hpp"
#include "runtime/proc_scan.hpp"

namespace auditree {

namespace {

using self_pointer = caf::stateful_actor<proc_connector_state>*;

// Sends PROC_CN_MCAST_LISTEN or _IGNORE.
bool send_op(int fd, proc_cn_mcast_op op) {
  // nlmsghdr, then cn_msg (whose flexible array holds the op).
  constexpr size_t size = NLMSG_HDRLEN + sizeof(cn_msg) + sizeof(op);
  alignas(nlmsghdr) char buf[size] = {};
  auto header = reinterpret_cast<nlmsghdr*>(buf);
  header->nlmsg_len = size;
  header->nlmsg_type = NLMSG_DONE;
  header->nlmsg_pid = static_cast<uint32_t>(getpid());
  cn_msg msg{};
  msg.id.idx = CN_IDX_PROC;
  msg.id.val = CN_VAL_PROC;
  msg.len = sizeof(op);
  std::memcpy(buf + NLMSG_HDRLEN, &msg, sizeof(msg));
  std::memcpy(buf + NLMSG_HDRLEN + sizeof(cn_msg), &op, sizeof(op));
  return ::send(fd, buf, size, 0) == static_cast<ssize_t>(size);
}

int open_socket(std::string& error) {
  int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (fd < 0) {
    error = std::string{"cannot open NETLINK_CONNECTOR: "}
            + std::strerror(errno);
    return -1;
  }
  int size = 16 << 20;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  addr.nl_pid = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
      || !send_op(fd, PROC_CN_MCAST_LISTEN)) {
    error = std::string{"cannot join the proc connector (needs "
                        "CAP_NET_ADMIN): "}
            + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
    duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count());
}

// On the reader thread: the process's cgroup (its container), which no
// audit record carries. Audit reports what an exec loaded, and a /proc
// sweep after any loss mends what it missed: reading all of /proc for an
// exec (six files) cost a fifth of this thread's CPU.
// A cgroup named like a container's counts only when root owns it (see
// actors/ownership_checks); a refusal is counted and logged, at most one
// line a second.
void enrich(proc_connector_state& st, process_event& ev, uint64_t now) {
  auto pid = ev.action == process_action::fork ? ev.child : ev.pid;
  auto cgroup = read_proc_cgroup("/proc", pid);
  if (!cgroup)
    return;
  auto claim = st.cgroup_owners.container_of(*cgroup);
  ev.container = std::move(claim.container);
  if (!claim.rejected)
    return;
  ++st.claims_rejected[static_cast<size_t>(*claim.rejected)];
  ++st.claims_unlogged;
  if (now < st.claims_logged_ms + 1000)
    return;
  log::warning("refused a container claim (", to_string(*claim.rejected),
               "): pid ", pid, " cgroup ", terminal_safe(*cgroup), " (",
               st.claims_unlogged, " refused since the last line)");
  st.claims_logged_ms = now;
  st.claims_unlogged = 0;
}

void take_datagram(proc_connector_state& st, const char* data, size_t size) {
  auto now = now_ms();
  auto ev = st.decoder.decode(data, size, now);
  if (!ev)
    return;
  if (ev->action == process_action::fork || ev->action == process_action::exec)
    enrich(st, *ev, now);
  st.batch.push_back(std::move(*ev));
}

void send_batch(proc_connector_state& st) {
  caf::actor tree;
  {
    std::lock_guard<std::mutex> guard{st.stats_mutex};
    st.stats = st.decoder.stats();
    for (size_t i = 0; i < num_claim_rejections; ++i)
      if (st.claims_rejected[i] > 0)
        st.stats.claims_rejected[to_string(static_cast<claim_rejection>(i))] =
          st.claims_rejected[i];
    tree = st.tree;
  }
  // Without a tree (it is being replaced) the batch is dropped: the
  // replacement reconciles with /proc.
  if (st.batch.empty() || !tree)
    return;
  caf::anon_send(tree, std::move(st.batch));
  st.batch = process_event_batch{};
}

} // namespace

proc_connector_state::~proc_connector_state() {
  if (reader) {
    // Tell the kernel before the socket closes.
    send_op(reader->native_handle(), PROC_CN_MCAST_IGNORE);
    reader.reset();
  }
}

caf::behavior proc_connector_actor(self_pointer self, caf::actor tree,
                                   caf::timespan delay) {
  log_exceptions(self);
  auto& st = self->state;
  st.tree = std::move(tree);
  std::string error;
  auto fd = open_socket(error);
  if (fd < 0) {
    log::error(error);
    self->quit(caf::make_error(caf::sec::runtime_error, error));
    return {};
  }
  auto* state = &st;
  st.reader = std::make_unique<netlink_reader>(
    fd, NETLINK_CONNECTOR, 4096,
    netlink_reader::handlers{
      [state](const char* data, size_t size) {
        take_datagram(*state, data, size);
      },
      [state] { send_batch(*state); }},
    std::chrono::duration_cast<std::chrono::microseconds>(delay));
  log::info("listening to the proc connector");
  return {
    [=](rewire_atom, const std::string& name, const caf::actor& tree) {
      if (name != "tree")
        return;
      std::lock_guard<std::mutex> guard{self->state.stats_mutex};
      self->state.tree = tree;
    },
    [=](stats_atom) {
      std::lock_guard<std::mutex> guard{self->state.stats_mutex};
      auto result = self->state.stats;
      result.num_overruns = self->state.reader->num_overruns();
      return result;
    },
    [=](crash_atom) { throw injected_fault{"proc_connector"}; },
    [=](mailbox_atom) { return uint64_t{self->mailbox().size()}; },
  };
}

} // namespace auditree
