// The file source reading plain text and gzip. The text is the corpus
// excerpt kill-and-reuse.log 40 times over (1.5 MB, more than one read of
// text), written to a temporary folder as it is, as one gzip member, as two
// members that split a line, and as gzip cut short. One fake assembler
// takes every batch and acknowledges it at once.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "actors/file_source_actor.hpp"
#include "messages/pipeline_stats.hpp"
#include "runtime/log.hpp"
#include "tests/actors/actor_fixture.hpp"
#include "tests/gzip_data.hpp"
#include "tests/runtime/record_fixture.hpp"

using namespace auditree;

namespace {

namespace fs = std::filesystem;

/// Every record it gets, as `sequence type stamp text`, acknowledged.
struct fake_assembler_state {
  static inline const char* name = "fake_assembler";
  std::vector<std::string>* records = nullptr;
};

caf::behavior fake_assembler(caf::stateful_actor<fake_assembler_state>* self,
                             std::vector<std::string>* records) {
  self->state.records = records;
  return {
    [=](record_batch& batch, uint64_t watermark) {
      for (auto& x : batch)
        self->state.records->push_back(
          std::to_string(x.sequence) + " " + std::to_string(x.type) + " "
          + test::stamp_of(x.id) + " " + std::string{x.text()});
      return caf::make_message(ack_atom::value, uint32_t{0}, watermark + 1);
    },
  };
}

struct file_source_fixture : test::actor_fixture {
  file_source_fixture() {
    folder = fs::temp_directory_path()
             / ("auditree-file-source-" + std::to_string(::getpid()));
    fs::create_directories(folder);
    for (int i = 0; i < 40; ++i)
      for (auto& line : test::read_lines("kill-and-reuse.log"))
        text += line + '\n';
  }

  ~file_source_fixture() {
    fs::remove_all(folder);
  }

  std::string write(const std::string& name, const std::string& content) {
    auto path = (folder / name).string();
    std::ofstream out{path, std::ios::binary};
    out << content;
    REQUIRE(out.good());
    return path;
  }

  /// Reads `path` to its end; the records the assembler got.
  std::vector<std::string> read(const std::string& path) {
    std::vector<std::string> records;
    auto assembler = keep(sys.spawn(fake_assembler, &records));
    auto aut = keep(sys.spawn(file_source_actor, path,
                              std::vector<caf::actor>{assembler}));
    self->send(aut, run_atom::value);
    run();
    stats = receive_one<source_stats>();
    return records;
  }

  fs::path folder;
  std::string text;
  source_stats stats;
};

} // namespace

TEST_CASE_METHOD(file_source_fixture,
                 "gzip gives the records of its text, in the same order",
                 "[file_source_actor]") {
  auto plain = read(write("plain.log", text));
  auto plain_stats = stats;
  REQUIRE(plain_stats.num_records == 40 * 242);
  REQUIRE(plain.size() == plain_stats.num_records);
  CHECK(plain_stats.num_malformed_lines == 0);
  CHECK(plain_stats.num_bytes == text.size());

  auto data = test::gzip(text);
  REQUIRE(data.size() < text.size() / 10);
  // The source knows gzip by its content, not by the file's name.
  for (auto name : {"one-member.log.gz", "one-member.log"}) {
    INFO(name);
    CHECK(read(write(name, data)) == plain);
    CHECK(stats.num_lines == plain_stats.num_lines);
    CHECK(stats.num_malformed_lines == 0);
    CHECK(stats.num_bytes == text.size());
  }
  // The second member begins inside a line.
  auto half = text.size() / 2 + 17;
  auto two = test::gzip(text.substr(0, half)) + test::gzip(text.substr(half));
  CHECK(read(write("two-members.log.gz", two)) == plain);
  CHECK(stats.num_malformed_lines == 0);
}

TEST_CASE_METHOD(file_source_fixture,
                 "gzip cut short gives the records before the cut and "
                 "counts the cut",
                 "[file_source_actor]") {
  auto plain = read(write("plain.log", text));
  auto data = test::gzip(text);
  auto got = read(write("cut.log.gz", data.substr(0, data.size() / 2)));
  CHECK(stats.num_malformed_lines >= 1);
  REQUIRE(got.size() > 100);
  REQUIRE(got.size() < plain.size());
  // Every record before the last (which the cut may shorten) is whole.
  got.pop_back();
  CHECK(std::equal(got.begin(), got.end(), plain.begin()));
}

TEST_CASE_METHOD(file_source_fixture,
                 "corrupt gzip is counted and ends the input",
                 "[file_source_actor]") {
  auto data = test::gzip(text);
  data[data.size() / 3] = static_cast<char>(data[data.size() / 3] ^ 0x55);
  // The garbage inflated before the checksum fails is a hundred warnings.
  log::set_level(log::level::error);
  read(write("corrupt.log.gz", data));
  log::set_level(log::level::info);
  CHECK(stats.num_malformed_lines >= 1);
  CHECK(stats.num_bytes <= text.size());
}
