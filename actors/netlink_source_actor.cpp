#include "actors/netlink_source_actor.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/fault.hpp"
#include "messages/type_ids.hpp"
#include "runtime/restart_policy.hpp"
#include "runtime/audit_parser.hpp"
#include "runtime/log.hpp"

namespace auditree {

namespace {

using self_pointer = caf::stateful_actor<netlink_source_state>*;

// The largest record payload the kernel sends (MAX_AUDIT_MESSAGE_LENGTH).
constexpr size_t max_payload = 8970;

// A NETLINK_AUDIT socket: bound to the read-only multicast group, or plain
// (unicast: it becomes the daemon's socket when it registers).
int open_socket(bool unicast, int receive_buffer, std::string& error) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) {
    error = std::string{"cannot open NETLINK_AUDIT: "} + std::strerror(errno);
    return -1;
  }
  // FORCE needs CAP_NET_ADMIN; the plain option is capped by rmem_max.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer,
                   sizeof(receive_buffer))
      != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer,
                 sizeof(receive_buffer));
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  if (!unicast)
    addr.nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    error = std::string{"cannot bind NETLINK_AUDIT"}
            + (unicast ? "" : " to the multicast group (needs CAP_AUDIT_READ)")
            + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

// On the reader thread: one datagram is one record.
void take_datagram(netlink_source_state& st, const char* data, size_t size) {
  if (size < NLMSG_HDRLEN) {
    ++st.num_malformed;
    return;
  }
  auto header = reinterpret_cast<const nlmsghdr*>(data);
  // Control messages (acks, replies) are not records.
  if (header->nlmsg_type < AUDIT_GET)
    return;
  // Use the datagram's length: the unicast path's nlmsg_len omits the
  // header.
  std::string_view payload{data + NLMSG_HDRLEN, size - NLMSG_HDRLEN};
  auto parsed = parse_payload(header->nlmsg_type, payload);
  if (!parsed) {
    ++st.num_malformed;
    log::warning("kernel record of type ", header->nlmsg_type, ": ",
                 parsed.error);
    return;
  }
  if (header->nlmsg_type == AUDIT_EOE) {
    // The event is complete here: how long after its stamp?
    auto& id = parsed.record.id;
    auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    std::lock_guard<std::mutex> guard{st.delivery_mutex};
    st.delivery.add(now_us
                    - static_cast<int64_t>(id.seconds * 1000000
                                           + id.millis * 1000));
  }
  st.batcher.add(parsed.record, ++*st.last_sequence);
}

// On the reader thread: hand the batches to the actor for the assemblers,
// in one message (one wake-up), each to go with the watermark (even when
// empty), so the tree can merge their outputs back into arrival order.
void send_batches(netlink_source_state& st) {
  uint64_t watermark = *st.last_sequence;
  if (watermark == st.watermark_sent)
    return;
  st.watermark_sent = watermark;
  caf::anon_send(st.router, st.batcher.take(), watermark);
}

void poll_status(self_pointer self) {
  auto& st = self->state;
  std::string error;
  auto status = st.session->poll_status(error);
  if (!status) {
    log::warning("AUDIT_GET: ", error);
    return;
  }
  auto& original = st.session->original();
  st.kernel.kernel_lost = status->lost - original.lost;
  st.kernel.backlog = status->backlog;
  st.kernel.max_backlog = std::max(st.kernel.max_backlog,
                                   uint64_t{status->backlog});
  st.kernel.backlog_wait_time_actual
    = status->backlog_wait_time_actual - original.backlog_wait_time_actual;
}

netlink_source_stats collect(netlink_source_state& st) {
  auto result = st.kernel;
  // Over the agent's run, across replacements of this actor.
  result.num_records = *st.last_sequence;
  result.num_malformed = st.num_malformed;
  result.num_datagrams = st.reader ? st.reader->num_datagrams() : 0;
  result.num_overruns = st.reader ? st.reader->num_overruns() : 0;
  result.num_rules = st.session->num_rules();
  std::lock_guard<std::mutex> guard{st.delivery_mutex};
  result.delivery_count = st.delivery.count();
  result.delivery_p50_us = st.delivery.percentile_us(0.5);
  result.delivery_p99_us = st.delivery.percentile_us(0.99);
  result.delivery_max_us = st.delivery.max_us();
  return result;
}

} // namespace

netlink_source_state::~netlink_source_state() {
  if (reader)
    reader->stop();
  if (ledger)
    ledger->retire(collect(*this));
}

caf::behavior netlink_source_actor(self_pointer self,
                                   netlink_source_options opts,
                                   std::shared_ptr<audit_session> session,
                                   std::vector<caf::actor> assemblers,
                                   caf::actor on_loss,
                                   fault_injector faults) {
  log_exceptions(self);
  auto& st = self->state;
  st.session = std::move(session);
  st.on_loss = std::move(on_loss);
  for (auto& a : assemblers)
    st.assemblers.emplace_back(std::move(a));
  st.batcher = record_batcher{st.assemblers.size()};
  st.faults = std::move(faults);
  // Released with the state when the actor ends.
  st.router = caf::actor_cast<caf::actor>(self);
  st.status_interval = opts.status_interval;
  st.last_sequence = opts.last_sequence;
  st.ledger = opts.ledger;
  std::string error;
  auto fd = open_socket(opts.session.unicast, opts.receive_buffer, error);
  if (fd >= 0)
    error = st.session->register_listener(fd);
  if (!error.empty()) {
    if (fd >= 0)
      ::close(fd);
    log::error(error);
    self->quit(caf::make_error(caf::sec::runtime_error, error));
    return {};
  }
  log::info("listening to kernel audit (",
            opts.session.unicast ? "unicast" : "multicast", "), ",
            st.session->num_rules(), " rules with key ", opts.session.key);
  auto* state = &st;
  st.reader = std::make_unique<netlink_reader>(
    fd, NETLINK_AUDIT, NLMSG_HDRLEN + max_payload + 1,
    netlink_reader::handlers{
      [state](const char* data, size_t size) {
        take_datagram(*state, data, size);
      },
      [state] { send_batches(*state); }},
    std::chrono::duration_cast<std::chrono::microseconds>(opts.batch_delay));
  self->send(self, status_atom::value);
  return {
    [=](status_atom) {
      poll_status(self);
      auto& st = self->state;
      auto losses = st.kernel.kernel_lost + st.reader->num_overruns();
      if (losses > st.losses_seen && st.on_loss)
        self->send(st.on_loss, sweep_atom::value);
      st.losses_seen = losses;
      if (auto err = self->state.reader->failure()) {
        self->quit(caf::make_error(caf::sec::runtime_error,
                                   std::string{"netlink read failed: "}
                                     + std::strerror(err)));
        return;
      }
      self->delayed_send(self, self->state.status_interval,
                         status_atom::value);
    },
    [=](record_batches& batches, uint64_t watermark) {
      auto& st = self->state;
      size_t n = 0;
      for (auto& batch : batches)
        n += batch.size();
      if (inject_fault(self, st.faults.step(n)))
        return;
      st.watermark_routed = std::max(st.watermark_routed, watermark);
      for (size_t i = 0; i < batches.size(); ++i)
        send_records(self, st.assemblers[i], std::move(batches[i]),
                     watermark);
    },
    [=](ack_atom, uint32_t index, uint64_t retain_from) {
      if (index < self->state.assemblers.size())
        self->state.assemblers[index].release_below(retain_from);
    },
    [=](rewire_atom, const std::string& name, const caf::actor& handle) {
      auto& st = self->state;
      if (name == "sweeper")
        st.on_loss = handle;
      else if (auto i = assembler_index(name); i < st.assemblers.size())
        rewire_records(self, st.assemblers[i], handle, st.watermark_routed);
    },
    [=](stats_atom) {
      poll_status(self);
      auto result = collect(self->state);
      if (self->state.ledger)
        self->state.ledger->report(result);
      return result;
    },
    [=](crash_atom) { throw injected_fault{"netlink_source"}; },
    [=](mailbox_atom) { return uint64_t{self->mailbox().size()}; },
  };
}

} // namespace auditree
