// The supervisor under virtual time. Its children here are mostly fakes
// that record what they receive (rewires, trims, sweeps) and can be told
// to throw or to stop; a restart is a delayed self-message, so it happens
// exactly when advance() passes the backoff.
//
// The fake pipeline of most tests, in spawn order:
//
//   sink <- tree <- assembler-0, assembler-1 <- source
//                <- connector
//                <- sweeper <- source

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>

#include "actors/assembler_actor.hpp"
#include "actors/supervisor_actor.hpp"
#include "actors/tree_actor.hpp"
#include "tests/actors/actor_fixture.hpp"

using namespace auditree;
using namespace std::chrono_literals;

namespace {

/// What one instance of a fake child received, in order.
struct child_record {
  std::vector<std::pair<std::string, caf::actor>> rewires;
  std::vector<uint64_t> trims;
  size_t sweeps = 0;
  size_t crashes = 0;
  /// Every message kind in arrival order: "rewire", "trim",
  /// "sweep", "crash", "exit".
  std::vector<std::string> got;
};

struct fake_state {
  static inline const char* name = "fake_child";
  std::shared_ptr<child_record> record;
};

/// A child that records what it gets. Commands (a string): "throw" throws,
/// "normal" and "shutdown" quit with that reason, "fail" quits with an
/// error. `crash` throws, like the real children. A stubborn child traps
/// exit messages (it records them and keeps running) until told to quit.
caf::behavior fake_child(caf::stateful_actor<fake_state>* self,
                         std::shared_ptr<child_record> record, bool stubborn) {
  self->state.record = std::move(record);
  if (stubborn)
    self->set_exit_handler([self](caf::exit_msg&) {
      self->state.record->got.push_back("exit");
    });
  return {
    [=](rewire_atom, const std::string& name, const caf::actor& handle) {
      self->state.record->rewires.emplace_back(name, handle);
      self->state.record->got.push_back("rewire");
    },
    [=](trim_atom, uint64_t sequence) {
      self->state.record->trims.push_back(sequence);
      self->state.record->got.push_back("trim");
    },
    [=](sweep_atom) {
      ++self->state.record->sweeps;
      self->state.record->got.push_back("sweep");
    },
    [=](crash_atom) {
      ++self->state.record->crashes;
      self->state.record->got.push_back("crash");
      throw std::runtime_error("fake child told to crash");
    },
    [=](const std::string& command) {
      if (command == "throw")
        throw std::runtime_error("fake child told to throw");
      if (command == "normal")
        self->quit(caf::exit_reason::normal);
      else if (command == "shutdown")
        self->quit(caf::exit_reason::user_shutdown);
      else if (command == "fail")
        self->quit(caf::make_error(caf::sec::runtime_error, "fake failure"));
    },
  };
}

/// One instance a spawn function made, with what it was given.
struct spawned_child {
  caf::actor handle;
  std::shared_ptr<child_record> record;
  pipeline seen;
  tree_checkpoint_ptr checkpoint;
};

constexpr auto backoff = 100ms;

restart_options options(size_t max_restarts = 5,
                        caf::timespan initial = backoff,
                        caf::timespan max = 10s, caf::timespan window = 60s) {
  restart_options result;
  result.max_restarts = max_restarts;
  result.initial_backoff = initial;
  result.max_backoff = max;
  result.window = window;
  return result;
}

struct supervisor_fixture : test::actor_fixture {
  ~supervisor_fixture() {
    // Stop everything while the records the spawn functions write to are
    // still alive.
    for (auto& x : spawned)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    run();
  }

  child_spec fake(const std::string& name, bool restartable = true,
                  bool stubborn = false) {
    return {name, restartable,
            [this, name, stubborn](const pipeline& p,
                                   const tree_checkpoint_ptr& checkpoint) {
              auto record = std::make_shared<child_record>();
              auto handle = sys.spawn(fake_child, record, stubborn);
              children[name].push_back({handle, record, p, checkpoint});
              return handle;
            }};
  }

  /// The full fake pipeline.
  std::vector<child_spec> fakes(bool source_restartable = true,
                                bool stubborn_sources = false) {
    return {fake("sink"),
            fake("tree"),
            fake("assembler-0"),
            fake("assembler-1"),
            fake("sweeper", true, stubborn_sources),
            fake("connector", true, stubborn_sources),
            fake("source", source_restartable, stubborn_sources)};
  }

  caf::actor start(std::vector<child_spec> specs,
                   restart_options limits = options()) {
    auto result = keep(sys.spawn(supervisor_actor, std::move(specs), limits));
    run();
    return result;
  }

  size_t spawns(const std::string& name) { return children[name].size(); }

  spawned_child& latest(const std::string& name) {
    auto& all = children[name];
    REQUIRE_FALSE(all.empty());
    return all.back();
  }

  child_record& record_of(const std::string& name) {
    return *latest(name).record;
  }

  /// Tells the current instance of `name` to do `command`.
  void tell(const std::string& name, const std::string& command) {
    self->send(latest(name).handle, command);
    run();
  }

  void kill(const std::string& name) {
    self->send_exit(latest(name).handle, caf::exit_reason::kill);
    run();
  }

  /// The supervisor's answer to `handles`, which must be in the mailbox.
  pipeline handles(const caf::actor& sup) {
    self->send(sup, handles_atom::value);
    run();
    return receive_one<pipeline>();
  }

  supervision_stats stats(const caf::actor& sup) {
    self->send(sup, stats_atom::value);
    run();
    return receive_one<supervision_stats>();
  }

  /// Whether a message of type T is in the test's mailbox (takes it).
  template <class T>
  std::optional<T> poll() {
    std::optional<T> result;
    self->receive([&](T& x) { result = std::move(x); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
    return result;
  }

  void watch(const caf::actor& x) { self->monitor(x); }

  /// Watches the newest child of each name; returns their handles.
  std::vector<caf::actor> watch_latest(std::vector<std::string> names) {
    std::vector<caf::actor> result;
    for (auto& name : names) {
      result.push_back(latest(name).handle);
      watch(result.back());
    }
    return result;
  }

  /// Collects the down messages in the mailbox into `downs`.
  void collect_downs() {
    for (;;) {
      bool got = false;
      self->receive(
        [&](caf::down_msg& down) {
          downs[down.source] = down.reason;
          got = true;
        },
        caf::after(std::chrono::seconds(0)) >> [] {});
      if (!got)
        return;
    }
  }

  bool is_down(const caf::actor& x) {
    collect_downs();
    return downs.count(x.address()) > 0;
  }

  /// Checks that the supervisor gave up: it went down with an error naming
  /// `child`, and took `others` down with it.
  void expect_gave_up(const caf::actor& sup, const std::string& child,
                      const std::vector<caf::actor>& others) {
    REQUIRE(is_down(sup));
    auto reason = downs[sup.address()];
    CHECK(reason);
    CHECK(reason != caf::exit_reason::normal);
    CHECK(reason != caf::exit_reason::user_shutdown);
    CHECK(sys.render(reason).find(child) != std::string::npos);
    for (auto& x : others) {
      INFO(to_string(x));
      CHECK(is_down(x));
    }
  }

  /// Checks that `name` restarts exactly `delay` after its failure (the
  /// failure has happened just now): not 1ms before, then at once.
  void expect_restart_after(const std::string& name, caf::timespan delay) {
    auto before = spawns(name);
    advance(delay - 1ms);
    CHECK(spawns(name) == before);
    advance(1ms);
    CHECK(spawns(name) == before + 1);
  }

  std::map<std::string, std::vector<spawned_child>> children;
  std::map<caf::actor_addr, caf::error> downs;
};

bool has_rewire(const child_record& r, const std::string& name,
                const caf::actor& handle) {
  return std::find(r.rewires.begin(), r.rewires.end(),
                   std::make_pair(name, handle))
         != r.rewires.end();
}

} // namespace

TEST_CASE_METHOD(supervisor_fixture,
                 "children start in order, each seeing those before it",
                 "[supervisor]") {
  auto sup = start(fakes());
  CHECK(latest("sink").seen.supervisor == sup);
  CHECK_FALSE(latest("sink").seen.tree);
  CHECK(latest("tree").seen.sink == latest("sink").handle);
  CHECK(latest("assembler-0").seen.tree == latest("tree").handle);
  CHECK(latest("source").seen.assemblers.size() == 2);
  CHECK(latest("source").seen.sweeper == latest("sweeper").handle);
  auto p = handles(sup);
  CHECK(p.sink == latest("sink").handle);
  CHECK(p.tree == latest("tree").handle);
  REQUIRE(p.assemblers.size() == 2);
  CHECK(p.assemblers[1] == latest("assembler-1").handle);
  CHECK(p.source == latest("source").handle);
  CHECK(p.supervisor == sup);
  CHECK(p.generation == 0);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "a thrown tree restarts after the backoff and is rewired",
                 "[supervisor]") {
  auto sup = start(fakes());
  auto old_tree = latest("tree").handle;
  tell("tree", "throw");
  advance(backoff - 1ms);
  CHECK(spawns("tree") == 1);
  CHECK(record_of("assembler-0").rewires.empty());
  advance(1ms);
  REQUIRE(spawns("tree") == 2);
  auto new_tree = latest("tree").handle;
  CHECK(new_tree != old_tree);
  // Everything that sends to the tree learns the new handle.
  for (auto name : {"assembler-0", "assembler-1", "connector", "sweeper"}) {
    INFO(name);
    CHECK(record_of(name).rewires
          == std::vector<std::pair<std::string, caf::actor>>{
            {"tree", new_tree}});
  }
  // Nothing else does.
  CHECK(record_of("source").rewires.empty());
  CHECK(record_of("sink").rewires.empty());
  // Records went by while it was down: the sweeper is asked for a sweep.
  CHECK(record_of("sweeper").sweeps == 1);
  // The new tree was wired to the running sink.
  CHECK(latest("tree").seen.sink == latest("sink").handle);
  auto p = handles(sup);
  CHECK(p.tree == new_tree);
  CHECK(p.generation == 1);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "a killed assembler restarts and the source is rewired",
                 "[supervisor]") {
  auto sup = start(fakes());
  kill("assembler-0");
  advance(backoff - 1ms);
  CHECK(spawns("assembler-0") == 1);
  CHECK(record_of("source").rewires.empty());
  advance(1ms);
  REQUIRE(spawns("assembler-0") == 2);
  auto fresh = latest("assembler-0").handle;
  CHECK(record_of("source").rewires
        == std::vector<std::pair<std::string, caf::actor>>{
          {"assembler-0", fresh}});
  CHECK(record_of("tree").rewires.empty());
  CHECK(spawns("assembler-1") == 1);
  // The new assembler was wired to the running tree.
  CHECK(latest("assembler-0").seen.tree == latest("tree").handle);
  auto p = handles(sup);
  REQUIRE(p.assemblers.size() == 2);
  CHECK(p.assemblers[0] == fresh);
  CHECK(p.assemblers[1] == latest("assembler-1").handle);
  CHECK(p.generation == 1);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "a killed sink restarts and the tree is rewired",
                 "[supervisor]") {
  auto sup = start(fakes());
  kill("sink");
  advance(backoff - 1ms);
  CHECK(spawns("sink") == 1);
  advance(1ms);
  REQUIRE(spawns("sink") == 2);
  auto fresh = latest("sink").handle;
  CHECK(record_of("tree").rewires
        == std::vector<std::pair<std::string, caf::actor>>{{"sink", fresh}});
  for (auto name : {"assembler-0", "source", "connector", "sweeper"}) {
    INFO(name);
    CHECK(record_of(name).rewires.empty());
  }
  auto p = handles(sup);
  CHECK(p.sink == fresh);
  CHECK(p.generation == 1);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "a killed sweeper restarts and the source is rewired",
                 "[supervisor]") {
  auto sup = start(fakes());
  kill("sweeper");
  advance(backoff);
  REQUIRE(spawns("sweeper") == 2);
  CHECK(has_rewire(record_of("source"), "sweeper", latest("sweeper").handle));
  CHECK(handles(sup).sweeper == latest("sweeper").handle);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "the real assembler and tree follow a rewire",
                 "[supervisor]") {
  std::vector<tree_checkpoint_ptr> tree_resumed;
  auto* system = &sys;
  std::vector<child_spec> specs;
  specs.push_back(fake("sink"));
  specs.push_back({"tree", true,
                   [&, system](const pipeline& p,
                               const tree_checkpoint_ptr& checkpoint) {
                     tree_resumed.push_back(checkpoint);
                     tree_actor_options opts;
                     opts.num_inputs = 1;
                     opts.has_sink = true;
                     return system->spawn(tree_actor, opts, p.sink,
                                          p.supervisor, checkpoint);
                   }});
  specs.push_back({"assembler-0", true,
                   [system](const pipeline& p, const tree_checkpoint_ptr&) {
                     return system->spawn(assembler_actor, p.tree,
                                          event_assembler::options{},
                                          uint32_t{0}, fault_injector{},
                                          std::shared_ptr<counter_ledger>{});
                   }});
  auto sup = start(std::move(specs));
  auto peer_of_assembler = [](const caf::actor& a) {
    auto ptr = caf::actor_cast<caf::abstract_actor*>(a);
    return dynamic_cast<caf::stateful_actor<assembler_state>&>(*ptr)
      .state.downstream.peer();
  };
  auto peer_of_tree = [](const caf::actor& t) {
    auto ptr = caf::actor_cast<caf::abstract_actor*>(t);
    return dynamic_cast<caf::stateful_actor<tree_state>&>(*ptr)
      .state.downstream.peer();
  };
  auto before = handles(sup);
  CHECK(peer_of_assembler(before.assemblers.at(0)) == before.tree);
  CHECK(peer_of_tree(before.tree) == before.sink);

  // The real tree throws on `crash` (via the supervisor's fault injection).
  self->send(sup, crash_atom::value, std::string{"tree"}, false);
  run();
  CHECK(receive_one<std::string>() == "tree told to throw");
  advance(backoff);
  auto after = handles(sup);
  REQUIRE(after.tree);
  CHECK(after.tree != before.tree);
  CHECK(after.generation == 1);
  CHECK(peer_of_assembler(after.assemblers.at(0)) == after.tree);
  REQUIRE(tree_resumed.size() == 2);
  CHECK_FALSE(tree_resumed[1]); // No checkpoint was ever sent.

  // A new sink: the real tree sends to it from now on.
  kill("sink");
  advance(backoff);
  auto last = handles(sup);
  CHECK(last.sink == latest("sink").handle);
  CHECK(peer_of_tree(last.tree) == last.sink);
  CHECK(last.generation == 2);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "the backoff doubles per consecutive restart up to the cap",
                 "[supervisor]") {
  auto sup = start(fakes(), options(10, 100ms, 400ms, 60s));
  for (auto delay : {100ms, 200ms, 400ms, 400ms, 400ms}) {
    INFO("delay " << delay.count() << "ms");
    tell("tree", "throw");
    expect_restart_after("tree", delay);
  }
  CHECK(handles(sup).generation == 5);
  // Another child has its own backoff, from the initial delay.
  tell("assembler-1", "throw");
  expect_restart_after("assembler-1", 100ms);
  // A tree that ran a whole window since its restart starts over.
  advance(60s);
  tell("tree", "throw");
  expect_restart_after("tree", 100ms);
  tell("tree", "throw");
  expect_restart_after("tree", 200ms);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "a spent budget stops the supervisor and all its children",
                 "[supervisor]") {
  auto sup = start(fakes(), options(2));
  watch(sup);
  tell("tree", "throw");
  advance(backoff);
  tell("tree", "throw");
  advance(2 * backoff);
  REQUIRE(spawns("tree") == 3);
  CHECK_FALSE(is_down(sup));
  auto others = watch_latest({"sink", "assembler-0", "assembler-1",
                               "source", "connector", "sweeper", "tree"});
  // The third failure within the window: more than the budget of 2.
  tell("tree", "throw");
  expect_gave_up(sup, "tree", others);
  advance(60s);
  CHECK(spawns("tree") == 3);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "failures spread over more than the window do not escalate",
                 "[supervisor]") {
  auto sup = start(fakes(), options(2, backoff, 10s, 10s));
  watch(sup);
  for (int i = 0; i < 4; ++i) {
    tell("tree", "throw");
    advance(10s);
  }
  CHECK_FALSE(is_down(sup));
  CHECK(spawns("tree") == 5);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "a child that cannot restart stops the supervisor on failure",
                 "[supervisor]") {
  auto sup = start(fakes(false));
  watch(sup);
  auto others = watch_latest({"sink", "tree", "assembler-0", "assembler-1",
                               "connector", "sweeper"});
  tell("source", "throw");
  expect_gave_up(sup, "source", others);
  advance(60s);
  CHECK(spawns("source") == 1);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "a child that cannot restart may still stop normally",
                 "[supervisor]") {
  auto sup = start(fakes(false));
  watch(sup);
  tell("source", "normal");
  advance(60s);
  CHECK_FALSE(is_down(sup));
  CHECK(spawns("source") == 1);
  CHECK_FALSE(handles(sup).source);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "a child that stops normally is not restarted",
                 "[supervisor]") {
  auto sup = start(fakes());
  watch(sup);
  tell("assembler-1", "normal");
  tell("sink", "shutdown");
  advance(60s);
  CHECK(spawns("assembler-1") == 1);
  CHECK(spawns("sink") == 1);
  CHECK_FALSE(is_down(sup));
  auto p = handles(sup);
  CHECK_FALSE(p.sink);
  REQUIRE(p.assemblers.size() == 2);
  CHECK_FALSE(p.assemblers[1]);
  CHECK(p.assemblers[0] == latest("assembler-0").handle);
  CHECK(p.generation == 0);
  CHECK(record_of("tree").rewires.empty());
  CHECK(stats(sup).children.empty());
  // An exit message with user_shutdown is a normal stop too.
  self->send_exit(latest("connector").handle, caf::exit_reason::user_shutdown);
  run();
  advance(60s);
  CHECK(spawns("connector") == 1);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "halt stops the sources and answers once they are down",
                 "[supervisor]") {
  auto sup = start(fakes(true, true));
  watch(sup);
  std::vector<std::string> rest{"sink", "tree", "assembler-0", "assembler-1"};
  watch_latest(rest);
  watch_latest({"source", "connector", "sweeper"});
  self->send(sup, halt_atom::value);
  run();
  // The stubborn sources got the exit message and did not stop yet.
  for (auto name : {"source", "connector", "sweeper"}) {
    INFO(name);
    CHECK(record_of(name).got == std::vector<std::string>{"exit"});
  }
  for (auto& name : rest) {
    INFO(name);
    CHECK(record_of(name).got.empty());
  }
  CHECK_FALSE(poll<caf::ok_atom>());
  tell("sweeper", "shutdown");
  tell("connector", "normal");
  CHECK_FALSE(poll<caf::ok_atom>());
  // The last source dies with an error: still not restarted.
  tell("source", "throw");
  CHECK(poll<caf::ok_atom>());
  advance(60s);
  CHECK(spawns("source") == 1);
  CHECK(spawns("connector") == 1);
  CHECK(spawns("sweeper") == 1);
  CHECK_FALSE(is_down(sup));
  for (auto& name : rest) {
    INFO(name);
    CHECK_FALSE(is_down(latest(name).handle));
  }
  auto p = handles(sup);
  CHECK_FALSE(p.source);
  CHECK_FALSE(p.connector);
  CHECK_FALSE(p.sweeper);
  CHECK(p.tree == latest("tree").handle);
  CHECK(p.generation == 0);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "halt with a source restart pending answers and skips it",
                 "[supervisor]") {
  auto sup = start(fakes());
  tell("connector", "throw");
  self->send(sup, halt_atom::value);
  run();
  CHECK(poll<caf::ok_atom>());
  advance(60s);
  CHECK(spawns("connector") == 1);
  CHECK(spawns("source") == 1);
  auto p = handles(sup);
  CHECK_FALSE(p.connector);
  CHECK_FALSE(p.source);
  CHECK(p.generation == 0);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "a second halt while the sources stop is answered too",
                 "[supervisor]") {
  auto sup = start(fakes(true, true));
  self->send(sup, halt_atom::value);
  self->send(sup, halt_atom::value);
  run();
  CHECK_FALSE(poll<caf::ok_atom>());
  tell("source", "normal");
  tell("connector", "normal");
  tell("sweeper", "normal");
  CHECK(poll<caf::ok_atom>());
  CHECK(poll<caf::ok_atom>());
}

TEST_CASE_METHOD(supervisor_fixture, "crash throws or kills the named child",
                 "[supervisor]") {
  auto sup = start(fakes());
  auto old_tree = latest("tree").handle;
  watch(old_tree);
  self->send(sup, crash_atom::value, std::string{"tree"}, false);
  run();
  CHECK(receive_one<std::string>() == "tree told to throw");
  CHECK(children["tree"].front().record->crashes == 1);
  REQUIRE(is_down(old_tree));
  CHECK(downs[old_tree.address()] == caf::sec::runtime_error);
  advance(backoff);
  CHECK(spawns("tree") == 2);

  auto old_source = latest("source").handle;
  watch(old_source);
  self->send(sup, crash_atom::value, std::string{"source"}, true);
  run();
  CHECK(receive_one<std::string>() == "source killed");
  REQUIRE(is_down(old_source));
  CHECK(downs[old_source.address()] == caf::exit_reason::kill);
  CHECK(record_of("source").crashes == 0);
  advance(backoff);
  CHECK(spawns("source") == 2);
  CHECK(handles(sup).generation == 2);
}

TEST_CASE_METHOD(supervisor_fixture, "crash of an unknown child is an error",
                 "[supervisor]") {
  auto sup = start(fakes());
  auto before = handles(sup);
  auto expect_error = [&](const std::string& name, bool kill) {
    INFO(name);
    self->send(sup, crash_atom::value, name, kill);
    run();
    auto err = poll<caf::error>();
    REQUIRE(err);
    CHECK(*err == caf::sec::invalid_argument);
  };
  expect_error("nobody", false);
  expect_error("nobody", true);
  expect_error("assembler-7", false);
  // A child whose restart is pending is not running either.
  tell("sink", "throw");
  expect_error("sink", true);
  advance(backoff);
  // Nothing changed but the sink.
  auto after = handles(sup);
  CHECK(after.assemblers.size() == before.assemblers.size());
  CHECK(after.assemblers == before.assemblers);
  CHECK(after.tree == before.tree);
  CHECK(after.generation == 1);
  for (auto name : {"tree", "assembler-0", "assembler-1", "source"}) {
    INFO(name);
    CHECK(spawns(name) == 1);
    CHECK(record_of(name).crashes == 0);
  }
}

TEST_CASE_METHOD(supervisor_fixture,
                 "handles waits for a pending restart",
                 "[supervisor]") {
  auto sup = start(fakes());
  kill("tree");
  self->send(sup, handles_atom::value);
  run();
  CHECK_FALSE(poll<pipeline>());
  advance(backoff - 1ms);
  CHECK_FALSE(poll<pipeline>());
  advance(1ms);
  auto p = poll<pipeline>();
  REQUIRE(p);
  CHECK(p->tree == latest("tree").handle);
  CHECK(p->tree);
  CHECK(p->generation == 1);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "handles waits until no restart at all is pending",
                 "[supervisor]") {
  auto sup = start(fakes());
  kill("tree");
  advance(50ms);
  kill("sink");
  self->send(sup, handles_atom::value);
  run();
  advance(50ms); // The tree is back, the sink not yet.
  CHECK(spawns("tree") == 2);
  CHECK_FALSE(poll<pipeline>());
  advance(50ms);
  auto p = poll<pipeline>();
  REQUIRE(p);
  CHECK(p->sink == latest("sink").handle);
  CHECK(p->tree == latest("tree").handle);
  CHECK(p->generation == 2);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "a checkpoint trims the assemblers and the connector and "
                 "resumes a new tree",
                 "[supervisor]") {
  auto sup = start(fakes());
  CHECK_FALSE(latest("tree").checkpoint);
  auto cp = std::make_shared<tree_checkpoint>();
  cp->applied = 42;
  cp->connector_applied = 9;
  self->send(sup, checkpoint_atom::value, tree_checkpoint_ptr{cp});
  run();
  CHECK(record_of("assembler-0").trims == std::vector<uint64_t>{42});
  CHECK(record_of("assembler-1").trims == std::vector<uint64_t>{42});
  // The connector's batches are numbered apart from the audit records.
  CHECK(record_of("connector").trims == std::vector<uint64_t>{9});
  CHECK(record_of("tree").trims.empty());
  CHECK(record_of("source").trims.empty());
  CHECK(stats(sup).num_checkpoints == 1);
  auto newer = std::make_shared<tree_checkpoint>();
  newer->applied = 77;
  self->send(sup, checkpoint_atom::value, tree_checkpoint_ptr{newer});
  run();
  CHECK(record_of("assembler-0").trims == std::vector<uint64_t>{42, 77});
  kill("tree");
  advance(backoff);
  REQUIRE(spawns("tree") == 2);
  CHECK(latest("tree").checkpoint.get() == newer.get());
  CHECK(latest("tree").checkpoint->applied == 77);
  CHECK(stats(sup).num_checkpoints == 2);
}

TEST_CASE_METHOD(supervisor_fixture,
                 "stats counts restarts per child and the near exhausted",
                 "[supervisor]") {
  auto sup = start(fakes(), options(3));
  auto s = stats(sup);
  CHECK(s.children.empty());
  CHECK(s.restarts.empty());
  CHECK(s.near_exhaustion.empty());
  tell("tree", "throw");
  advance(backoff);
  kill("assembler-1");
  advance(backoff);
  s = stats(sup);
  CHECK(s.children == std::vector<std::string>{"assembler-1", "tree"});
  CHECK(s.restarts == std::vector<uint64_t>{1, 1});
  CHECK(s.near_exhaustion.empty());
  tell("tree", "throw");
  advance(2 * backoff);
  s = stats(sup);
  CHECK(s.restarts == std::vector<uint64_t>{1, 2});
  // Two of its three restarts used within the window: near.
  CHECK(s.near_exhaustion == std::vector<std::string>{"tree"});
  // Once the window passed, it is not near any more; the counter stays.
  advance(60s);
  s = stats(sup);
  CHECK(s.restarts == std::vector<uint64_t>{1, 2});
  CHECK(s.near_exhaustion.empty());
  // A normal stop is not a restart.
  tell("sink", "normal");
  CHECK(stats(sup).children.size() == 2);
}
