#include "runtime/audit_parser.hpp"

#include <catch2/catch.hpp>

#include <sstream>

#include "runtime/record_types.hpp"
#include "tests/runtime/record_fixture.hpp"

using namespace auditree;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

// The reader's own setsockopt, the first SYSCALL of every corpus log.
constexpr std::string_view setsockopt_fields =
    "arch=c000003e syscall=54 success=yes exit=0 a0=4 a1=10e a2=1 "
    "a3=7fff211107f0 items=0 ppid=1455 pid=1511 auid=4294967295 uid=0 "
    "gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) "
    "ses=4294967295 comm=\"python3\" "
    "exe=\"/root/.pyenv/versions/3.11.7/bin/python3.11\" key=(null)";

std::string setsockopt_line(std::string_view type = "SYSCALL") {
  return "type="s + std::string{type} + " msg=audit(1795990173.086:327459): "
         + std::string{setsockopt_fields};
}

std::vector<std::pair<std::string, std::string>> fields(std::string_view t) {
  std::vector<std::pair<std::string, std::string>> result;
  field_cursor cursor{t};
  std::string_view k;
  std::string_view v;
  while (cursor.next(k, v))
    result.emplace_back(k, v);
  return result;
}

std::vector<std::string> reassemble(std::initializer_list<std::string_view> xs,
                                    const char*& error) {
  execve_reassembler aut;
  for (auto x : xs)
    aut.add(x);
  auto result = aut.finish();
  error = aut.error();
  return result;
}

// The EXECVE record texts of one event of tests/data/long-argv.log.
std::vector<std::string> execve_texts(uint32_t serial) {
  std::vector<std::string> result;
  for (auto& line : test::read_lines("long-argv.log")) {
    auto rec = test::record(line);
    if (rec.id.serial == serial && rec.type == record_types::execve)
      result.emplace_back(rec.text());
  }
  return result;
}

// Argument lengths and hex from the truth file's `NOTE argv: pid=P ...`
// lines, which argvdump wrote from the argv it received.
struct truth_argv {
  size_t argc = 0;
  size_t bytes = 0;
  std::vector<size_t> lengths;
  std::vector<std::string> hex;
  size_t min_length = 0;
  size_t max_length = 0;
};

std::string after(const std::string& line, std::string_view key) {
  auto i = line.find(key);
  REQUIRE(i != std::string::npos);
  i += key.size();
  return line.substr(i, line.find(' ', i) - i);
}

std::vector<std::string> split(const std::string& x, char sep) {
  std::vector<std::string> result;
  std::string item;
  std::istringstream in{x};
  while (std::getline(in, item, sep))
    result.push_back(item);
  if (!x.empty() && x.back() == sep)
    result.emplace_back();
  return result;
}

truth_argv truth_for(int pid) {
  truth_argv result;
  auto prefix = "NOTE argv: pid=" + std::to_string(pid) + " ";
  for (auto& line : test::read_lines("long-argv.notes.txt")) {
    if (line.rfind(prefix, 0) != 0)
      continue;
    if (line.find(" argc=") != std::string::npos) {
      result.argc = std::stoul(after(line, " argc="));
      result.bytes = std::stoul(after(line, " bytes="));
    } else if (line.find(" lengths=") != std::string::npos) {
      for (auto& n : split(after(line, " lengths="), ','))
        result.lengths.push_back(std::stoul(n));
    } else if (line.find(" lengths: ") != std::string::npos) {
      result.min_length = std::stoul(after(line, " min="));
      result.max_length = std::stoul(after(line, " max="));
    } else if (line.find(" hex=") != std::string::npos) {
      result.hex = split(after(line, " hex="), ',');
    }
  }
  REQUIRE(result.argc > 0);
  return result;
}

std::string lower_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  for (unsigned char c : bytes) {
    result += digits[c >> 4];
    result += digits[c & 0xf];
  }
  return result;
}

// /proc/PID/cmdline size: every argument followed by a NUL.
size_t cmdline_bytes(const std::vector<std::string>& argv) {
  size_t result = 0;
  for (auto& arg : argv)
    result += arg.size() + 1;
  return result;
}

} // namespace

// -- headers ------------------------------------------------------------------

TEST_CASE("parse_line reads a named type, the stamp and the fields") {
  auto line = setsockopt_line();
  auto result = parse_line(line);
  REQUIRE(result);
  CHECK(result.error == nullptr);
  CHECK(result.record.type == 1300);
  CHECK(result.record.id.seconds == 1795990173u);
  CHECK(result.record.id.millis == 86u);
  CHECK(result.record.id.serial == 327459u);
  // Everything after `audit(...): `, as audit_record documents.
  CHECK(result.record.text == setsockopt_fields);
  // The view points into the caller's buffer; to_record() copies.
  CHECK(result.record.text.data() >= line.data());
  CHECK(result.record.text.data() < line.data() + line.size());
  auto owned = result.record.to_record();
  line.assign(line.size(), 'x');
  CHECK(owned.text() == setsockopt_fields);
  CHECK(owned.type == 1300);
  CHECK(owned.id.serial == 327459u);
}

TEST_CASE("parse_line reads every record type name of the corpus") {
  auto type = GENERATE(
      as<std::pair<std::string, uint32_t>>{}, std::pair{"SYSCALL"s, 1300u},
      std::pair{"PATH"s, 1302u}, std::pair{"CONFIG_CHANGE"s, 1305u},
      std::pair{"SOCKADDR"s, 1306u}, std::pair{"CWD"s, 1307u},
      std::pair{"EXECVE"s, 1309u}, std::pair{"EOE"s, 1320u},
      std::pair{"BPRM_FCAPS"s, 1321u}, std::pair{"PROCTITLE"s, 1327u},
      std::pair{"EVENT_LISTENER"s, 1335u}, std::pair{"ANOM_ABEND"s, 1701u});
  auto line = setsockopt_line(type.first);
  auto result = parse_line(line);
  INFO(type.first);
  REQUIRE(result);
  CHECK(result.record.type == type.second);
  CHECK(record_types::name(type.second) == type.first);
  CHECK(record_types::number(type.first) == type.second);
}

TEST_CASE("parse_line reads a numeric type=NNNN") {
  auto named_line = setsockopt_line("SYSCALL");
  auto numeric_line = setsockopt_line("1300");
  auto named = parse_line(named_line);
  auto numeric = parse_line(numeric_line);
  REQUIRE(named);
  REQUIRE(numeric);
  CHECK(numeric.record.type == 1300);
  CHECK(numeric.record.id == named.record.id);
  CHECK(numeric.record.text == named.record.text);
  auto other = parse_line("type=1327 msg=audit(1795990089.922:322958): "
                          "proctitle=736C65657000302E3035");
  REQUIRE(other);
  CHECK(other.record.type == record_types::proctitle);
  CHECK(other.record.text == "proctitle=736C65657000302E3035");
}

TEST_CASE("parse_line reads UNKNOWN[NNNN] for types libaudit cannot name") {
  auto result = parse_line("type=UNKNOWN[1334] msg=audit(1795990173.086:327"
                           "459): pid=1511 op=connect res=1");
  REQUIRE(result);
  CHECK(result.record.type == 1334);
  CHECK(result.record.text == "pid=1511 op=connect res=1");
  CHECK_FALSE(parse_line("type=UNKNOWN[] msg=audit(1.000:1): x=1"));
  CHECK_FALSE(parse_line("type=UNKNOWN[12a] msg=audit(1.000:1): x=1"));
  CHECK_FALSE(parse_line("type=UNKNOWN[4294967296] msg=audit(1.000:1): x=1"));
  CHECK_FALSE(parse_line("type=UNKNOWN[1334 msg=audit(1.000:1): x=1"));
  CHECK_FALSE(parse_line("type=NO_SUCH_TYPE msg=audit(1.000:1): x=1"));
}

TEST_CASE("parse_line drops auditd's node= prefix") {
  auto plain_line = setsockopt_line();
  auto noded_line = "node=web-1.example " + setsockopt_line();
  auto plain = parse_line(plain_line);
  auto noded = parse_line(noded_line);
  REQUIRE(noded);
  CHECK(noded.record.type == 1300);
  CHECK(noded.record.id == plain.record.id);
  CHECK(noded.record.text == plain.record.text);
  auto eoe = parse_line("node=10.0.0.7 type=EOE msg=audit(1795990081.206:"
                        "307793):");
  REQUIRE(eoe);
  CHECK(eoe.record.type == record_types::eoe);
  CHECK(eoe.record.text.empty());
  CHECK_FALSE(parse_line("node=web-1"));
  CHECK(parse_line("node=web-1").error != nullptr);
}

TEST_CASE("parse_line drops the ENRICHED suffix after 0x1d") {
  auto plain_line = setsockopt_line();
  auto plain = parse_line(plain_line);
  auto enriched = setsockopt_line()
                  + "\x1d"
                    "ARCH=x86_64 SYSCALL=setsockopt AUID=\"unset\" "
                    "UID=\"root\" GID=\"root\"";
  auto result = parse_line(enriched);
  REQUIRE(result);
  CHECK(result.record.text == plain.record.text);
  CHECK(find_field(result.record.text, "key") == "(null)"sv);
  CHECK_FALSE(find_field(result.record.text, "ARCH"));
  // Both, as auditd writes them with name_format and ENRICHED.
  auto both_line = "node=h1 " + enriched + "\n";
  auto both = parse_line(both_line);
  REQUIRE(both);
  CHECK(both.record.text == plain.record.text);
}

TEST_CASE("parse_line drops a trailing newline") {
  auto plain_line = setsockopt_line();
  auto plain = parse_line(plain_line);
  for (auto end : {"\n"s, "\r\n"s}) {
    auto line = setsockopt_line() + end;
    auto result = parse_line(line);
    REQUIRE(result);
    CHECK(result.record.text == plain.record.text);
  }
}

TEST_CASE("parse_line reads an EOE record with nothing after the colon") {
  auto result = parse_line("type=EOE msg=audit(1795990081.206:307793):");
  REQUIRE(result);
  CHECK(result.record.type == record_types::eoe);
  CHECK(result.record.id.seconds == 1795990081u);
  CHECK(result.record.id.millis == 206u);
  CHECK(result.record.id.serial == 307793u);
  CHECK(result.record.text.empty());
}

TEST_CASE("parse_line keeps the leading space of a continuation record") {
  // From long-argv-and-threads.log: the 7,499-byte argument's second piece.
  std::string line = "type=EXECVE msg=audit(1795990173.590:327491):  a1[1]=\""
                     + std::string(60, '0') + "\" a2_len=15000 a2[0]=3030";
  auto result = parse_line(line);
  REQUIRE(result);
  CHECK(result.record.type == record_types::execve);
  CHECK(result.record.text.substr(0, 7) == " a1[1]=");
  auto fs = fields(result.record.text);
  REQUIRE(fs.size() == 3);
  CHECK(fs[0].first == "a1[1]");
  CHECK(fs[0].second == "\"" + std::string(60, '0') + "\"");
  CHECK(fs[1] == std::pair{"a2_len"s, "15000"s});
  CHECK(fs[2] == std::pair{"a2[0]"s, "3030"s});
}

TEST_CASE("parse_payload reads a netlink payload") {
  auto payload =
      "audit(1795990173.086:327459): "s + std::string{setsockopt_fields};
  auto result = parse_payload(1300, payload);
  REQUIRE(result);
  CHECK(result.record.type == 1300);
  CHECK(result.record.id.serial == 327459u);
  CHECK(result.record.text == setsockopt_fields);
  // The kernel may leave NUL, newline and space bytes at the end.
  auto padded = payload + " \n"s + std::string(3, '\0');
  auto trimmed = parse_payload(1300, padded);
  REQUIRE(trimmed);
  CHECK(trimmed.record.text == setsockopt_fields);
  CHECK_FALSE(parse_payload(1300, "type=SYSCALL " + payload));
}

TEST_CASE("parse_line rejects malformed headers with a reason") {
  auto line = GENERATE(
      as<std::string>{}, "", " ", "\n", "garbage", "type=", "type=SYSCALL",
      "type=SYSCALL ", "type=SYSCALL msg=", "type=SYSCALL msg=audit",
      "type=SYSCALL msg=audit(", "type=SYSCALL msg=audit(1795990173",
      "type=SYSCALL msg=audit(1795990173.",
      "type=SYSCALL msg=audit(1795990173.086",
      "type=SYSCALL msg=audit(1795990173.086:",
      "type=SYSCALL msg=audit(1795990173.086:327459",
      "type=SYSCALL msg=audit(1795990173.086:327459)",
      "type=SYSCALL msg=audit(1795990173.086:327459) arch=c000003e",
      "type=SYSCALL msg=audit(1795990173.086:abc): arch=c000003e",
      "type=SYSCALL msg=audit(1795990173.086:32745x): arch=c000003e",
      "type=SYSCALL msg=audit(1795990173.086:-1): arch=c000003e",
      "type=SYSCALL msg=audit(1795990173.086:): arch=c000003e",
      "type=SYSCALL msg=audit(1795990173.086:4294967296): arch=c000003e",
      "type=SYSCALL msg=audit(1795990173.1000:327459): arch=c000003e",
      "type=SYSCALL msg=audit(1795990173.999999:327459): arch=c000003e",
      "type=SYSCALL msg=audit(1795990173.x86:327459): arch=c000003e",
      "type=SYSCALL msg=audit(.086:327459): arch=c000003e",
      "type=SYSCALL msg=audit(1795990173:327459): arch=c000003e",
      "type=SYSCALL msg=audit(99999999999999999999.086:1): arch=c000003e",
      "type=SYSCALL msg=(1795990173.086:327459): arch=c000003e",
      "type=SYSCALL audit(1795990173.086:327459): arch=c000003e",
      "msg=audit(1795990173.086:327459): arch=c000003e",
      "TYPE=SYSCALL msg=audit(1795990173.086:327459): arch=c000003e",
      "type=syscall msg=audit(1795990173.086:327459): arch=c000003e",
      "type=4294967296 msg=audit(1795990173.086:327459): arch=c000003e",
      "type=13x0 msg=audit(1795990173.086:327459): arch=c000003e",
      "type=-1300 msg=audit(1795990173.086:327459): arch=c000003e",
      "node= type",
      "\x1dtype=SYSCALL msg=audit(1795990173.086:327459): arch=c000003e",
      "type=SYSCALL msg=audit(1795990173.086\x1d:327459): arch=c000003e");
  INFO('"' << line << '"');
  auto result = parse_line(line);
  CHECK_FALSE(result);
  REQUIRE(result.error != nullptr);
  CHECK(std::string{result.error}.size() > 0);
}

TEST_CASE("parse_line accepts the largest millis and serial") {
  auto result = parse_line("type=EOE msg=audit(1795990173.999:4294967295):");
  REQUIRE(result);
  CHECK(result.record.id.millis == 999u);
  CHECK(result.record.id.serial == 4294967295u);
  auto zero = parse_line("type=EOE msg=audit(0.000:0):");
  REQUIRE(zero);
  CHECK(zero.record.id == event_id{});
  auto padded =
      parse_line("type=EOE msg=audit(000000000000000000001795990173.0999:"
                 "0000000000000000000004294967295):");
  REQUIRE(padded);
  CHECK(padded.record.id.seconds == 1795990173u);
  CHECK(padded.record.id.millis == 999u);
  CHECK(padded.record.id.serial == 4294967295u);
}

TEST_CASE(
    "parse_line fails on every truncation of a real line, never crashes") {
  auto line = setsockopt_line();
  auto header_end = line.find("): ") + 2;
  for (size_t n = 0; n <= line.size(); ++n) {
    auto result = parse_line(std::string_view{line}.substr(0, n));
    INFO("first " << n << " bytes");
    if (n < header_end) {
      CHECK_FALSE(result);
      CHECK(result.error != nullptr);
    } else {
      REQUIRE(result);
      CHECK(result.record.id.serial == 327459u);
    }
  }
}

TEST_CASE("parse_line handles a 1 MB line") {
  SECTION("a valid header with 1 MB of fields") {
    std::string line = "type=EXECVE msg=audit(1795990173.282:327483):  a1[9]=";
    line.append(1 << 20, '3');
    auto result = parse_line(line);
    REQUIRE(result);
    CHECK(result.record.text.size() == (1u << 20) + 7);
    CHECK(find_field(result.record.text, "a1[9]")->size() == 1u << 20);
  }
  SECTION("1 MB of garbage") {
    std::string line(1 << 20, 'x');
    CHECK(parse_line(line).error != nullptr);
    line.replace(0, 5, "type=");
    CHECK(parse_line(line).error != nullptr);
    line[100] = ' ';
    CHECK(parse_line(line).error != nullptr);
  }
  SECTION("1 MB of spaces, NUL bytes and 0x1d") {
    std::string line(1 << 20, ' ');
    CHECK(parse_line(line).error != nullptr);
    line.assign(1 << 20, '\0');
    CHECK(parse_line(line).error != nullptr);
    line.assign(1 << 20, '\x1d');
    CHECK(parse_line(line).error != nullptr);
  }
}

// -- fields -------------------------------------------------------------------

TEST_CASE("field_cursor walks quoted, unquoted, hex, (null) and (none)") {
  auto fs = fields(setsockopt_fields);
  REQUIRE(fs.size() == 25);
  CHECK(fs[0] == std::pair{"arch"s, "c000003e"s});
  CHECK(fs[1] == std::pair{"syscall"s, "54"s});
  CHECK(fs[20] == std::pair{"tty"s, "(none)"s});
  CHECK(fs[22] == std::pair{"comm"s, "\"python3\""s});
  CHECK(fs[24] == std::pair{"key"s, "(null)"s});
  // comm, exe, cwd of the L6 exec are hex because of the spaces.
  auto hex = fields(" argc=3 a0=2E2F7072C3B66720C3B1616D65 "
                    "a1=72656C61746976652065786563 a2=\"from-odd-cwd\"");
  REQUIRE(hex.size() == 4);
  CHECK(hex[1] == std::pair{"a0"s, "2E2F7072C3B66720C3B1616D65"s});
  CHECK(hex[3] == std::pair{"a2"s, "\"from-odd-cwd\""s});
}

TEST_CASE("field_cursor keeps a quoted value with spaces in one piece") {
  // User messages nest msg='...' with spaces inside.
  auto fs = fields("pid=1 uid=0 msg='op=PAM:session_open acct=\"root\" "
                   "res=success' extra");
  REQUIRE(fs.size() == 4);
  CHECK(
      fs[2]
      == std::pair{"msg"s, "'op=PAM:session_open acct=\"root\" res=success'"s});
  CHECK(fs[3] == std::pair{"extra"s, ""s});
}

TEST_CASE("field_cursor ends cleanly on odd text") {
  CHECK(fields("").empty());
  CHECK(fields("    ").empty());
  auto fs = fields("a= b=\"unterminated c=1");
  REQUIRE(fs.size() == 2);
  CHECK(fs[0] == std::pair{"a"s, ""s});
  CHECK(fs[1] == std::pair{"b"s, "\"unterminated c=1"s});
  auto eq = fields("=x k==v");
  REQUIRE(eq.size() == 2);
  CHECK(eq[0] == std::pair{""s, "x"s});
  CHECK(eq[1] == std::pair{"k"s, "=v"s});
  auto ends = fields("word k=v  x=");
  REQUIRE(ends.size() == 3);
  CHECK(ends[0] == std::pair{"word"s, ""s});
  CHECK(ends[1] == std::pair{"k"s, "v"s});
  CHECK(ends[2] == std::pair{"x"s, ""s});
}

TEST_CASE("find_field finds whole keys only") {
  CHECK(find_field(setsockopt_fields, "uid") == "0"sv);
  CHECK(find_field(setsockopt_fields, "auid") == "4294967295"sv);
  CHECK(find_field(setsockopt_fields, "pid") == "1511"sv);
  CHECK(find_field(setsockopt_fields, "ppid") == "1455"sv);
  CHECK(find_field(setsockopt_fields, "exe")
        == "\"/root/.pyenv/versions/3.11.7/bin/python3.11\""sv);
  CHECK_FALSE(find_field(setsockopt_fields, "id"));
  CHECK_FALSE(find_field(setsockopt_fields, "succes"));
  CHECK_FALSE(find_field(setsockopt_fields, ""));
  CHECK(find_field("a=1 a=2", "a") == "1"sv);
}

TEST_CASE("parse_unsigned and parse_signed take whole numbers only") {
  CHECK(parse_unsigned("4294967295") == 4294967295u);
  CHECK(parse_unsigned("0") == 0u);
  CHECK(parse_unsigned("c000003e", 16) == 0xc000003eu);
  CHECK(parse_unsigned("C000003E", 16) == 0xc000003eu);
  CHECK(parse_unsigned("50f00", 16) == 0x50f00u);
  CHECK(parse_unsigned("18446744073709551615") == UINT64_MAX);
  CHECK_FALSE(parse_unsigned("18446744073709551616"));
  CHECK(parse_unsigned("9999999999999999999") == 9999999999999999999u);
  CHECK(parse_unsigned("0000000000000000000000001") == 1u);
  CHECK(parse_unsigned("ffffffffffffffff", 16) == UINT64_MAX);
  CHECK(parse_unsigned("0000000000000000000ff", 16) == 0xffu);
  CHECK_FALSE(parse_unsigned("10000000000000000", 16));
  CHECK_FALSE(parse_unsigned("99999999999999999999"));
  CHECK_FALSE(parse_unsigned("12g", 16));
  CHECK(parse_unsigned("777", 8) == 0777u);
  CHECK_FALSE(parse_unsigned(""));
  CHECK_FALSE(parse_unsigned("12a"));
  CHECK_FALSE(parse_unsigned("c000003e"));
  CHECK_FALSE(parse_unsigned("0x10", 16));
  CHECK_FALSE(parse_unsigned("-1"));
  CHECK_FALSE(parse_unsigned(" 1"));
  CHECK_FALSE(parse_unsigned("(null)"));
  CHECK(parse_signed("-2") == -2);
  CHECK(parse_signed("1749") == 1749);
  CHECK(parse_signed("-9223372036854775808") == INT64_MIN);
  CHECK_FALSE(parse_signed("9223372036854775808"));
  CHECK_FALSE(parse_signed(""));
  CHECK_FALSE(parse_signed("-"));
  CHECK_FALSE(parse_signed("--1"));
  CHECK_FALSE(parse_signed("+1"));
  CHECK_FALSE(parse_signed("1 "));
}

// -- untrusted strings --------------------------------------------------------

TEST_CASE("decode_untrusted reads quoted and hex values") {
  CHECK(decode_untrusted("\"python3\"") == "python3"s);
  CHECK(decode_untrusted("\"\"") == ""s);
  CHECK(decode_untrusted("\"back\\slash\"") == "back\\slash"s);
  CHECK(decode_untrusted("7072C3B66720C3B1616D65") == "prög ñame"s);
  CHECK(decode_untrusted("74776F20776F726473") == "two words"s);
  CHECK(decode_untrusted("74776f20776f726473") == "two words"s);
  CHECK(decode_untrusted("22") == "\""s);
  CHECK(decode_untrusted("6E65770A6C696E65") == "new\nline"s);
  CHECK(decode_untrusted("610062") == "a\0b"s);
  CHECK(decode_untrusted("2F6D656D66643A65786563636861696E2D636F7079202864"
                         "656C6574656429")
        == "/memfd:execchain-copy (deleted)"s);
}

TEST_CASE("decode_untrusted: (null), (none) and bad hex have no value") {
  CHECK_FALSE(decode_untrusted("(null)"));
  CHECK_FALSE(decode_untrusted("(none)"));
  CHECK_FALSE(decode_untrusted("ABC"));
  CHECK_FALSE(decode_untrusted("GG"));
  CHECK_FALSE(decode_untrusted("\""));
  CHECK_FALSE(decode_untrusted("\"abc"));
  CHECK(decode_untrusted("") == ""s);
}

TEST_CASE("decode_hex decodes either case and rejects the rest") {
  CHECK(decode_hex("") == ""s);
  CHECK(decode_hex("00") == std::string(1, '\0'));
  CHECK(decode_hex("fF7f80") == "\xff\x7f\x80"s);
  CHECK_FALSE(decode_hex("0"));
  CHECK_FALSE(decode_hex("0g"));
  CHECK_FALSE(decode_hex(" 0"));
  CHECK_FALSE(decode_hex("0x00"));
}

// -- PROCTITLE ----------------------------------------------------------------

TEST_CASE("PROCTITLE hex splits at NUL bytes") {
  auto raw = find_field("proctitle=656E76002D2D64656661756C742D7369676E616C3D"
                        "494E542C5155495400736C656570003330",
                        "proctitle");
  REQUIRE(raw);
  auto decoded = decode_untrusted(*raw);
  REQUIRE(decoded);
  CHECK(split_proctitle(*decoded)
        == std::vector<std::string>{"env", "--default-signal=INT,QUIT", "sleep",
                                    "30"});
  auto hello = decode_untrusted("2F62696E2F7368002E2F68656C6C6F2E7368006F6E6500"
                                "74776F20776F726473");
  REQUIRE(hello);
  CHECK(
      split_proctitle(*hello)
      == std::vector<std::string>{"/bin/sh", "./hello.sh", "one", "two words"});
}

TEST_CASE("PROCTITLE of a single argument is quoted") {
  auto rec = test::record("type=PROCTITLE msg=audit(1795990082.726:315513): "
                          "proctitle=\"true\"");
  auto raw = find_field(rec.text(), "proctitle");
  REQUIRE(raw);
  auto decoded = decode_untrusted(*raw);
  REQUIRE(decoded);
  CHECK(split_proctitle(*decoded) == std::vector<std::string>{"true"});
}

TEST_CASE("split_proctitle keeps empty inner arguments, drops trailing NULs") {
  CHECK(split_proctitle("").empty());
  CHECK(split_proctitle(std::string(3, '\0')).empty());
  CHECK(split_proctitle("a\0\0b\0"s) == std::vector<std::string>{"a", "", "b"});
  CHECK(split_proctitle("\0a"s) == std::vector<std::string>{"", "a"});
}

// -- EXECVE reassembly --------------------------------------------------------

TEST_CASE("execve_reassembler reads plain arguments") {
  const char* error = "unset";
  auto argv = reassemble({"argc=4 a0=\"env\" a1=\"--default-signal=INT,QUIT\" "
                          "a2=\"sleep\" a3=\"30\""},
                         error);
  CHECK(error == nullptr);
  CHECK(argv
        == std::vector<std::string>{"env", "--default-signal=INT,QUIT", "sleep",
                                    "30"});
}

TEST_CASE("execve_reassembler decodes hex arguments with spaces") {
  const char* error = "unset";
  auto argv = reassemble({"argc=4 a0=\"/bin/sh\" a1=\"./hello.sh\" a2=\"one\" "
                          "a3=74776F20776F726473"},
                         error);
  CHECK(error == nullptr);
  CHECK(
      argv
      == std::vector<std::string>{"/bin/sh", "./hello.sh", "one", "two words"});
}

TEST_CASE("execve_reassembler: L3, 22 unusual arguments, match the truth") {
  // Spaces, quotes, tab, newline, an empty a6="", UTF-8, DEL, ESC, "\".
  auto texts = execve_texts(327486);
  REQUIRE(texts.size() == 1);
  CHECK(texts[0].find(" a6=\"\" ") != std::string::npos);
  execve_reassembler aut;
  CHECK(aut.add(texts[0]));
  auto argv = aut.finish();
  CHECK(aut.error() == nullptr);
  auto truth = truth_for(1673);
  REQUIRE(argv.size() == truth.argc);
  REQUIRE(truth.hex.size() == truth.argc);
  for (size_t i = 0; i < argv.size(); ++i) {
    INFO("argument " << i);
    CHECK(argv[i].size() == truth.lengths[i]);
    CHECK(lower_hex(argv[i]) == truth.hex[i]);
  }
  CHECK(argv[6].empty());
  CHECK(argv[3] == "it's");
  CHECK(argv[20] == "\"");
  CHECK(cmdline_bytes(argv) == truth.bytes);
}

TEST_CASE("execve_reassembler: L1, a 20,000-byte argument in hex chunks") {
  // a1_len=40000 a1[0]=... a1[5]=... over six records, then 300 arguments
  // of 103 bytes, some split as aN_len + quoted aN[0], aN[1].
  auto texts = execve_texts(327480);
  REQUIRE(texts.size() == 10);
  CHECK(texts[0].find(" a1_len=40000 ") != std::string::npos);
  execve_reassembler aut;
  for (auto& text : texts)
    CHECK(aut.add(text));
  auto argv = aut.finish();
  CHECK(aut.error() == nullptr);
  auto truth = truth_for(1656);
  REQUIRE(argv.size() == truth.argc);
  CHECK(argv.size() == 302);
  CHECK(cmdline_bytes(argv) == truth.bytes);
  CHECK(argv[0] == "/var/tmp/audit-corpus/lat/argvdump");
  CHECK(argv[1].size() == truth.max_length);
  CHECK(argv[1] == std::string(20000, '0'));
  size_t shortest = SIZE_MAX;
  for (size_t i = 2; i < argv.size(); ++i) {
    INFO("argument " << i);
    CHECK(argv[i].size() == 103);
    CHECK(argv[i].rfind("arg", 0) == 0);
    shortest = std::min(shortest, argv[i].size());
  }
  CHECK(std::min(shortest, argv[0].size()) == truth.min_length);
}

TEST_CASE("execve_reassembler: L2, a 131,071-byte argument over 35 records") {
  auto texts = execve_texts(327483);
  REQUIRE(texts.size() == 35);
  CHECK(texts[0].find(" a1_len=262142 ") != std::string::npos);
  CHECK(texts[34].substr(0, 8) == " a1[34]=");
  execve_reassembler aut;
  for (auto& text : texts)
    CHECK(aut.add(text));
  auto argv = aut.finish();
  CHECK(aut.error() == nullptr);
  auto truth = truth_for(1665);
  REQUIRE(argv.size() == truth.argc);
  REQUIRE(truth.lengths.size() == 2);
  CHECK(argv[0].size() == truth.lengths[0]);
  CHECK(argv[1].size() == truth.lengths[1]);
  CHECK(argv[1].size() == 131071);
  CHECK(lower_hex(argv[0]) == truth.hex[0]);
  CHECK(argv[1].find_first_not_of('0') == std::string::npos);
  CHECK(cmdline_bytes(argv) == truth.bytes);
}

TEST_CASE("execve_reassembler: L4, 7,499 quoted bytes across two records") {
  // a1_len=7499 a1[0]="..." then a1[1]="..."; 7,500 and 7,501 bytes are
  // hex (a2_len=15000); the 3,750 spaces are hex too.
  auto texts = execve_texts(327491);
  REQUIRE(texts.size() == 7);
  CHECK(texts[0].find(" a1_len=7499 a1[0]=\"") != std::string::npos);
  CHECK(texts[1].substr(0, 8) == " a1[1]=\"");
  CHECK(texts[1].find(" a2_len=15000 ") != std::string::npos);
  execve_reassembler aut;
  for (auto& text : texts)
    CHECK(aut.add(text));
  auto argv = aut.finish();
  CHECK(aut.error() == nullptr);
  auto truth = truth_for(1683);
  REQUIRE(argv.size() == truth.argc);
  for (size_t i = 0; i < argv.size(); ++i) {
    INFO("argument " << i);
    CHECK(argv[i].size() == truth.lengths[i]);
  }
  CHECK(argv[1] == std::string(7499, '0'));
  CHECK(argv[2] == std::string(7500, '0'));
  CHECK(argv[3] == std::string(7501, '0'));
  CHECK(argv[4] == std::string(3750, ' '));
  CHECK(cmdline_bytes(argv) == truth.bytes);
}

TEST_CASE("execve_reassembler: L6, hex program name and arguments") {
  auto texts = execve_texts(327500);
  REQUIRE(texts.size() == 1);
  execve_reassembler aut;
  CHECK(aut.add(texts[0]));
  auto argv = aut.finish();
  CHECK(aut.error() == nullptr);
  auto truth = truth_for(1702);
  REQUIRE(argv.size() == truth.argc);
  for (size_t i = 0; i < argv.size(); ++i)
    CHECK(lower_hex(argv[i]) == truth.hex[i]);
  CHECK(argv[0] == "./prög ñame");
}

TEST_CASE("execve_reassembler splits chunks anywhere, even inside a byte") {
  const char* error = "unset";
  auto argv = reassemble(
      {"argc=2 a0=\"x\" a1_len=8 a1[0]=747", " a1[1]=76F", " a1[2]=21"}, error);
  CHECK(error == nullptr);
  CHECK(argv == std::vector<std::string>{"x", "two!"});
  argv = reassemble(
      {"argc=3 a0=\"x\" a1_len=5 a1[0]=\"ab\"", " a1[1]=\"cde\" a2=\"y\""},
      error);
  CHECK(error == nullptr);
  CHECK(argv == std::vector<std::string>{"x", "abcde", "y"});
}

TEST_CASE("execve_reassembler reports records that do not fit") {
  using row = std::pair<std::string, std::vector<std::string>>;
  auto bad = GENERATE(
      as<row>{},
      row{"chunks out of order",
          {"argc=2 a0=\"x\" a1_len=4 a1[1]=3030", " a1[0]=3030"}},
      row{"a chunk skipped",
          {"argc=2 a0=\"x\" a1_len=6 a1[0]=3030", " a1[2]=30"}},
      row{"a chunk repeated",
          {"argc=2 a0=\"x\" a1_len=6 a1[0]=3030", " a1[0]=3030"}},
      row{"a chunk without aN_len", {"argc=2 a0=\"x\" a1[0]=3030"}},
      row{"a chunk of another argument",
          {"argc=3 a0=\"x\" a1_len=4 a1[0]=30", " a2[1]=30"}},
      row{"argc larger than the arguments", {"argc=3 a0=\"x\" a1=\"y\""}},
      row{"argc smaller than the arguments", {"argc=1 a0=\"x\" a1=\"y\""}},
      row{"no argc", {"a0=\"x\" a1=\"y\""}},
      row{"argc twice", {"argc=1 argc=1 a0=\"x\""}},
      row{"argc after the arguments", {"a0=\"x\" argc=1"}},
      row{"invalid argc", {"argc=two a0=\"x\""}},
      row{"an argument skipped", {"argc=3 a0=\"x\" a2=\"z\""}},
      row{"an argument inside a chunked one",
          {"argc=3 a0=\"x\" a1_len=4 a1[0]=30", " a2=\"z\""}},
      row{"an argument cut short", {"argc=2 a0=\"x\" a1_len=10 a1[0]=3030"}},
      row{"a chunk longer than aN_len",
          {"argc=2 a0=\"x\" a1_len=2 a1[0]=3030"}},
      row{"invalid aN_len", {"argc=2 a0=\"x\" a1_len=x a1[0]=3030"}},
      row{"quoted and hex chunks mixed",
          {"argc=2 a0=\"x\" a1_len=4 a1[0]=\"ab\"", " a1[1]=6364"}},
      row{"invalid hex", {"argc=1 a0=3G"}},
      row{"invalid hex in chunks", {"argc=1 a0_len=4 a0[0]=3G3G"}},
      row{"odd hex in chunks", {"argc=1 a0_len=3 a0[0]=303"}},
      row{"an unexpected field", {"argc=1 a0=\"x\" pid=12"}},
      row{"a malformed name", {"argc=1 a0=\"x\" ax=\"y\""}},
      row{"a malformed suffix", {"argc=2 a0=\"x\" a1_size=4"}});
  INFO(bad.first);
  execve_reassembler aut;
  for (auto& text : bad.second)
    aut.add(text);
  aut.finish();
  REQUIRE(aut.error() != nullptr);
  CHECK(std::string{aut.error()}.size() > 0);
}

TEST_CASE("execve_reassembler: add() tells at once and the error sticks") {
  execve_reassembler aut;
  CHECK(aut.add("argc=2 a0=\"x\" a1_len=4 a1[0]=30"));
  CHECK(aut.error() == nullptr);
  CHECK_FALSE(aut.add(" a1[2]=30"));
  auto first = aut.error();
  REQUIRE(first != nullptr);
  CHECK_FALSE(aut.add(" a1[1]=30"));
  aut.finish();
  CHECK(aut.error() == first);
}

TEST_CASE("execve_reassembler: argc=0 and a (null) argument") {
  const char* error = "unset";
  CHECK(reassemble({"argc=0"}, error).empty());
  CHECK(error == nullptr);
  auto argv = reassemble({"argc=2 a0=\"x\" a1=(null)"}, error);
  CHECK(error == nullptr);
  CHECK(argv == std::vector<std::string>{"x", ""});
}

// -- found by fuzz/ -----------------------------------------------------------

TEST_CASE("parse_line rejects a stamp past the year 9999") {
  // assembler_fuzzer: the stamp made a five-digit @timestamp, no RFC 3339.
  auto fuzzed = parse_line(
      "type=SYSCALL msg=audit(1795990090081.226:307797): arch=c000003e "
      "syscall=59 success=yes exit=0 ppid=14355 pid=14538");
  CHECK_FALSE(fuzzed);
  REQUIRE(fuzzed.error != nullptr);
  CHECK(fuzzed.error == "seconds out of range"sv);
  auto last = parse_line("type=EOE msg=audit(253402300799.999:1):");
  REQUIRE(last);
  CHECK(last.record.id.seconds == 253402300799u);
  CHECK_FALSE(parse_line("type=EOE msg=audit(253402300800.000:1):"));
  CHECK_FALSE(parse_payload(1320, "audit(18446744073709551615.000:1):"));
}

TEST_CASE("execve_reassembler: a hostile aN_len allocates no more than "
          "real chunks") {
  // execve_fuzzer: reserve(aN_len) asked for 6.6 PB and threw bad_alloc.
  auto fuzzed = "argc=2 a0=\"x\" a1_len="s + std::string(138, '0')
                + "6666666666666667";
  auto len = GENERATE(as<std::string>{}, "18446744073709551615",
                      "6666666666666667", "4294967296");
  for (auto text : {fuzzed, "argc=2 a0=\"x\" a1_len=" + len}) {
    INFO(text.substr(0, 40));
    execve_reassembler aut;
    bool ok = false;
    REQUIRE_NOTHROW(ok = aut.add(text));
    CHECK(ok);
    CHECK(aut.add(" a1[0]=\"abc\""));
    aut.finish();
    CHECK(aut.error() == "argument cut short"sv);
  }
}
