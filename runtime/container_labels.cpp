#include "runtime/container_labels.hpp"

#include <algorithm>

#include "runtime/docker_names.hpp"

namespace auditree {

namespace {

constexpr size_t max_image_size = 1024;

bool valid_image(std::string_view s) {
  if (s.empty() || s.size() > max_image_size)
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'
           || c == '/' || c == ':' || c == '@';
  });
}

} // namespace

container_ecs_id split_container_key(std::string_view key,
                                     std::string_view runtime) {
  auto slash = key.rfind('/');
  if (slash == std::string_view::npos)
    return {key, {}};
  auto ns = key.substr(0, slash);
  return {key.substr(slash + 1), ns == runtime ? std::string_view{} : ns};
}

std::optional<std::string> docker_image_from_config(std::string_view json) {
  auto config = json_top_value(json, "Config");
  if (!config || config->empty() || config->front() != '{')
    return std::nullopt;
  auto image = json_top_string(*config, "Image");
  if (!image || !valid_image(*image))
    return std::nullopt;
  return image;
}

container_labels docker_labels_from_config(std::string_view json) {
  container_labels out;
  if (auto name = docker_name_from_config(json))
    out.name = std::move(*name);
  if (auto image = docker_image_from_config(json))
    out.image = std::move(*image);
  return out;
}

} // namespace auditree
