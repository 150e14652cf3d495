#include "actors/container_facts.hpp"

#include <algorithm>

#include "runtime/docker_names.hpp"

namespace auditree {

namespace {

constexpr size_t max_cached = 4096;
constexpr auto roots_refresh = std::chrono::seconds{10};

bool is_docker_id(std::string_view id) {
  return id.size() == 64 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

} // namespace

const container_labels& container_facts::of(const std::string& key,
                                            std::string_view runtime) {
  // Without its runtime a key says too little to cache a miss under it.
  static const container_labels none;
  if (runtime.empty())
    return none;
  if (auto i = cache_.find(key); i != cache_.end())
    return i->second;
  if (cache_.size() >= max_cached)
    cache_.clear();
  return cache_.emplace(key, read(key, runtime)).first->second;
}

container_labels container_facts::read(const std::string& key,
                                       std::string_view runtime) {
  auto id = split_container_key(key, runtime).id;
  if (runtime != "docker" || !is_docker_id(id))
    return {};
  auto read_roots = [this] {
    docker_roots_ =
        docker_data_roots(find_dockerd("/proc"), [](const std::string& path) {
          return read_root_owned(path);
        });
    roots_read_ = std::chrono::steady_clock::now();
    roots_known_ = true;
  };
  if (!roots_known_)
    read_roots();
  auto look = [&]() -> std::optional<container_labels> {
    for (auto& root : docker_roots_)
      if (auto text = read_root_owned(root + "/containers/" + std::string{id}
                                      + "/config.v2.json"))
        return docker_labels_from_config(*text);
    return std::nullopt;
  };
  if (auto found = look())
    return *found;
  // A dockerd started (or moved its data root) since the roots were read.
  if (std::chrono::steady_clock::now() - roots_read_ < roots_refresh)
    return {};
  read_roots();
  return look().value_or(container_labels{});
}

} // namespace auditree
