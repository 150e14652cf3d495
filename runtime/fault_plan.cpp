#include "runtime/fault_plan.hpp"

#include <charconv>

namespace auditree {

std::optional<fault_spec> parse_fault(std::string_view text,
                                      std::string& error) {
  auto fail = [&](const char* why) {
    error = "fault '" + std::string{text} + "': " + why
            + " (expected ACTOR:throw|kill|hang:at=N|every=N)";
    return std::nullopt;
  };
  auto first = text.find(':');
  auto second = first == text.npos ? text.npos : text.find(':', first + 1);
  if (second == text.npos)
    return fail("three parts separated by ':'");
  fault_spec result;
  result.actor = std::string{text.substr(0, first)};
  auto action = text.substr(first + 1, second - first - 1);
  auto when = text.substr(second + 1);
  if (result.actor.empty())
    return fail("no actor");
  if (action == "throw")
    result.action = fault_spec::raise;
  else if (action == "kill")
    result.action = fault_spec::kill;
  else if (action == "hang")
    result.action = fault_spec::hang;
  else
    return fail("unknown action");
  std::string_view number;
  if (when.rfind("at=", 0) == 0) {
    number = when.substr(3);
  } else if (when.rfind("every=", 0) == 0) {
    result.repeat = true;
    number = when.substr(6);
  } else {
    return fail("unknown schedule");
  }
  auto end = number.data() + number.size();
  auto [ptr, ec] = std::from_chars(number.data(), end, result.units);
  if (ec != std::errc{} || ptr != end || result.units == 0)
    return fail("N must be a positive integer");
  return result;
}

fault_injector::fault_injector(std::vector<fault_spec> specs)
  : specs_(std::move(specs)), counts_(std::make_shared<shared>()) {
}

std::optional<fault_spec::action_t> fault_injector::step(uint64_t units) {
  if (specs_.empty() || units == 0)
    return std::nullopt;
  auto before = counts_->done.fetch_add(units);
  auto after = before + units;
  for (auto& spec : specs_) {
    bool due = spec.repeat ? after / spec.units > before / spec.units
                           : before < spec.units && after >= spec.units;
    if (due) {
      ++counts_->fired;
      return spec.action;
    }
  }
  return std::nullopt;
}

std::optional<fault_spec::action_t>
fault_injector::advance_to(uint64_t position) {
  if (specs_.empty())
    return std::nullopt;
  auto before = counts_->furthest.load();
  while (position > before
         && !counts_->furthest.compare_exchange_weak(before, position))
    ;
  return position > before ? step(position - before) : std::nullopt;
}

uint64_t fault_injector::num_fired() const {
  return counts_ ? counts_->fired.load() : 0;
}

} // namespace auditree
