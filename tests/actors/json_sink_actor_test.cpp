// The JSON sink under the test coordinator: a replacement sink shares its
// predecessor's progress and drops what that one wrote already, when a
// tree resumed from a checkpoint sends those events again.

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "actors/json_sink_actor.hpp"
#include "tests/actors/actor_fixture.hpp"

using namespace auditree;

namespace {

struct sink_fixture : test::actor_fixture {
  sink_fixture() {
    char name[] = "/tmp/auditree-sink-test-XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
    progress = std::make_shared<sink_progress>();
  }

  ~sink_fixture() { std::remove(path.c_str()); }

  caf::actor spawn_sink() {
    output_writer::options opts;
    opts.path = path;
    return keep(sys.spawn(json_sink_actor, opts, fault_injector{}, progress,
                          std::shared_ptr<counter_ledger>{}));
  }

  /// Exec events of pids 100 + sequence, for the given sequences.
  static process_event_batch execs(std::initializer_list<uint64_t> seqs) {
    process_event_batch batch;
    for (auto seq : seqs) {
      process_event ev;
      ev.action = process_action::exec;
      ev.id = event_id{1795990000, 0, static_cast<uint32_t>(seq)};
      ev.sequence = seq;
      ev.pid = static_cast<int32_t>(100 + seq);
      ev.exe = "/usr/bin/true";
      batch.push_back(std::move(ev));
    }
    return batch;
  }

  /// Waits until the sink's writer wrote everything queued.
  void flush(const caf::actor& sink) {
    self->send(sink, flush_atom::value);
    run();
    receive_one<uint64_t>();
  }

  /// How many lines of the file name `"pid":PID`.
  size_t lines_with_pid(int pid) {
    std::ifstream in{path};
    auto needle = "\"pid\":" + std::to_string(pid) + ",";
    size_t n = 0;
    for (std::string line; std::getline(in, line);)
      n += line.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

  std::string path;
  std::shared_ptr<sink_progress> progress;
};

} // namespace

TEST_CASE_METHOD(sink_fixture,
                 "a replacement sink drops what its predecessor wrote",
                 "[sink]") {
  auto first = spawn_sink();
  caf::anon_send(first, execs({1, 2, 3}));
  run();
  flush(first);
  CHECK(progress->process_sequence == 3);
  caf::anon_send_exit(first, caf::exit_reason::kill);
  run();

  // A resumed tree sends 2 and 3 again, then what is new.
  auto second = spawn_sink();
  caf::anon_send(second, execs({2, 3, 4, 5}));
  container_event started;
  started.id = "c1";
  started.runtime = "runc";
  started.sequence = 3; // its own kind: not taken for a duplicate
  caf::anon_send(second, container_event_batch{started});
  run();
  flush(second);
  for (int pid = 101; pid <= 105; ++pid) {
    INFO("pid " << pid);
    CHECK(lines_with_pid(pid) == 1);
  }
  CHECK(progress->process_sequence == 5);
  CHECK(progress->container_sequence == 3);
  std::ifstream in{path};
  std::string all{std::istreambuf_iterator<char>{in}, {}};
  CHECK(all.find("\"c1\"") != std::string::npos);
}
