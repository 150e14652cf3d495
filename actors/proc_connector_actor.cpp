#include "actors/proc_connector_actor.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
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
void enrich(connector_carry& carry, process_event& ev, uint64_t now) {
  auto pid = ev.action == process_action::fork ? ev.child : ev.pid;
  auto cgroup = read_proc_cgroup("/proc", pid);
  if (!cgroup)
    return;
  auto claim = carry.cgroup_owners.container_of(*cgroup);
  ev.container = std::move(claim.container);
  // A forked child's pid in its container, as the kernel says it: audit's
  // namespaced clone cannot tell two children forked at once apart.
  if (ev.action == process_action::fork && !ev.container.empty())
    ev.vpid = read_proc_vpid("/proc", pid);
  if (!claim.rejected)
    return;
  ++carry.claims_rejected[static_cast<size_t>(*claim.rejected)];
  ++carry.claims_unlogged;
  if (now < carry.claims_logged_ms + 1000)
    return;
  log::warning("refused a container claim (", to_string(*claim.rejected),
               "): pid ", pid, " cgroup ", terminal_safe(*cgroup), " (",
               carry.claims_unlogged, " refused since the last line)");
  carry.claims_logged_ms = now;
  carry.claims_unlogged = 0;
}

// The reader thread belongs to no actor: it sends anonymously.
struct anonymous_sender {
  void send(const caf::actor& to, caf::message content) {
    caf::anon_send(to, std::move(content));
  }
};

void take_datagram(connector_carry& carry, const char* data, size_t size) {
  auto now = now_ms();
  auto ev = carry.decoder.decode(data, size, now);
  if (!ev)
    return;
  if (ev->action == process_action::fork || ev->action == process_action::exec)
    enrich(carry, *ev, now);
  carry.batch.push_back(std::move(*ev));
}

// The reader's counts as the actor reads them; `carry.mutex` held.
void refresh_stats(connector_carry& carry) {
  carry.stats = carry.decoder.stats();
  for (size_t i = 0; i < num_claim_rejections; ++i)
    if (carry.claims_rejected[i] > 0)
      carry.stats.claims_rejected[to_string(static_cast<claim_rejection>(i))] =
        carry.claims_rejected[i];
}

// Numbers the batch and sends it, kept until a tree checkpoint covers it:
// a tree being replaced gets it from its successor's rewire.
void send_batch(connector_carry& carry) {
  std::lock_guard<std::mutex> guard{carry.mutex};
  refresh_stats(carry);
  if (carry.batch.empty())
    return;
  auto number = ++carry.last_batch;
  anonymous_sender sender;
  carry.tree.send(&sender,
                  caf::make_message(std::move(carry.batch), number), number);
  carry.batch = process_event_batch{};
}

connector_stats counters_of(connector_carry& carry,
                            const netlink_reader* reader) {
  std::lock_guard<std::mutex> guard{carry.mutex};
  auto result = carry.stats;
  result.num_overruns = reader ? reader->num_overruns() : 0;
  return result;
}

} // namespace

connector_carry::~connector_carry() {
  if (fd < 0)
    return;
  // Tell the kernel before the socket closes.
  send_op(fd, PROC_CN_MCAST_IGNORE);
  ::close(fd);
}

proc_connector_state::~proc_connector_state() {
  if (reader)
    reader->stop();
  if (!carry)
    return;
  {
    // The reader is stopped: what it decoded since its last batch counts.
    std::lock_guard<std::mutex> guard{carry->mutex};
    refresh_stats(*carry);
  }
  if (ledger)
    ledger->retire(counters_of(*carry, reader.get()));
}

caf::behavior proc_connector_actor(self_pointer self, caf::actor tree,
                                   caf::timespan delay,
                                   std::shared_ptr<connector_carry> carry,
                                   std::shared_ptr<counter_ledger> ledger) {
  log_exceptions(self);
  auto& st = self->state;
  st.carry = std::move(carry);
  st.ledger = std::move(ledger);
  {
    // The tree may have been replaced while no connector listened.
    std::lock_guard<std::mutex> guard{st.carry->mutex};
    if (st.carry->tree.peer() != tree)
      st.carry->tree.rewire(self, std::move(tree));
  }
  std::string error;
  if (st.carry->fd < 0)
    st.carry->fd = open_socket(error);
  auto fd = st.carry->fd < 0 ? -1
                             : ::fcntl(st.carry->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    if (error.empty())
      error = std::string{"cannot duplicate the proc connector socket: "}
              + std::strerror(errno);
    log::error(error);
    self->quit(caf::make_error(caf::sec::runtime_error, error));
    return {};
  }
  auto* kept = st.carry.get();
  st.reader = std::make_unique<netlink_reader>(
    fd, NETLINK_CONNECTOR, 4096,
    netlink_reader::handlers{
      [kept](const char* data, size_t size) {
        take_datagram(*kept, data, size);
      },
      [kept] { send_batch(*kept); }},
    std::chrono::duration_cast<std::chrono::microseconds>(delay));
  log::info("listening to the proc connector");
  return {
    [=](rewire_atom, const std::string& name, const caf::actor& tree) {
      if (name != "tree")
        return;
      auto& carry = *self->state.carry;
      std::lock_guard<std::mutex> guard{carry.mutex};
      carry.tree.rewire(self, tree);
    },
    [=](trim_atom, uint64_t number) {
      auto& carry = *self->state.carry;
      std::lock_guard<std::mutex> guard{carry.mutex};
      carry.tree.release_below(number + 1);
    },
    [=](stats_atom) {
      auto& st = self->state;
      auto result = counters_of(*st.carry, st.reader.get());
      if (st.ledger)
        st.ledger->report(result);
      return result;
    },
    [=](crash_atom) { throw injected_fault{"proc_connector"}; },
    [=](mailbox_atom) { return uint64_t{self->mailbox().size()}; },
  };
}

} // namespace auditree
