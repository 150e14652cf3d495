// process.entity_id (runtime/entity_id): SHA-256 against FIPS 180-4's
// examples, and the recipe's form.

#include <catch2/catch.hpp>

#include "runtime/entity_id.hpp"

using namespace auditree;

namespace {

std::string hex(const std::array<uint8_t, 32>& digest) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : digest) {
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

} // namespace

TEST_CASE("sha256: the standard's examples, one and two blocks") {
  CHECK(hex(sha256(""))
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(sha256("abc"))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // 64 bytes: the padding takes a block of its own.
  CHECK(hex(sha256(std::string(64, 'a')))
        == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("make_entity_id: 16 base64url characters of the recipe's digest") {
  auto id = make_entity_id("node=alpha", 500, 1795990174310);
  CHECK(id.size() == 16);
  CHECK(looks_like_entity_id(id));
  // The first 12 bytes of SHA-256("node=alpha|500|1795990174310").
  auto digest = sha256("node=alpha|500|1795990174310");
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  CHECK(id[0] == alphabet[digest[0] >> 2]);
  CHECK(id[15] == alphabet[digest[11] & 0x3f]);
  CHECK(make_entity_id("node=alpha", 500, 1795990174310) == id);
  CHECK(make_entity_id("node=beta", 500, 1795990174310) != id);
  CHECK(make_entity_id("node=alpha", 501, 1795990174310) != id);
  CHECK(make_entity_id("node=alpha", 500, 1795990174311) != id);
  CHECK_FALSE(looks_like_entity_id("1234"));
  CHECK_FALSE(looks_like_entity_id("abcdefghijklmno+"));
  CHECK(boot_of_host("", "0f3c") == "0f3c");
  CHECK(boot_of_host("", "") == "node=");
  CHECK(boot_of_host("alpha", "0f3c") == "node=alpha");
}
