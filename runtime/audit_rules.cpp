#include "runtime/audit_rules.hpp"

#include <sstream>

namespace auditree {

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> result;
  size_t start = 0;
  for (;;) {
    auto end = s.find(sep, start);
    result.emplace_back(s.substr(start, end - start));
    if (end == std::string_view::npos)
      return result;
    start = end + 1;
  }
}

bool is_list(const std::string& x) {
  return x == "exit" || x == "task" || x == "user" || x == "exclude"
         || x == "filesystem";
}

bool is_action(const std::string& x) {
  return x == "always" || x == "never";
}

} // namespace

audit_rules_parse parse_audit_rules(std::string_view text) {
  audit_rules_parse result;
  int line_no = 0;
  auto fail = [&](const std::string& why) {
    result.error = std::to_string(line_no) + ": " + why;
    result.rules.clear();
    return result;
  };
  for (auto& line : split(text, '\n')) {
    ++line_no;
    std::istringstream words{line.substr(0, line.find('#'))};
    std::string word;
    if (!(words >> word))
      continue;
    if (word != "-a" && word != "-A")
      return fail("only -a/-A rules are allowed, not " + word);
    audit_rule_spec rule;
    rule.line = line_no;
    std::string list_action;
    if (!(words >> list_action))
      return fail("-a needs LIST,ACTION");
    auto parts = split(list_action, ',');
    if (parts.size() != 2)
      return fail("-a needs LIST,ACTION, got " + list_action);
    if (is_list(parts[1]) && is_action(parts[0]))
      std::swap(parts[0], parts[1]);
    if (!is_list(parts[0]) || !is_action(parts[1]))
      return fail("unknown list or action in " + list_action);
    rule.list = parts[0];
    rule.action = parts[1];
    while (words >> word) {
      std::string value;
      if (!(words >> value))
        return fail(word + " needs a value");
      if (word == "-F") {
        if (value.find_first_of("=<>&") == std::string::npos)
          return fail("-F needs FIELD=VALUE, got " + value);
        if (value.rfind("key=", 0) == 0)
          return fail("keys are set by the agent, not in the rules file");
        rule.fields.push_back(value);
      } else if (word == "-S") {
        for (auto& name : split(value, ','))
          if (!name.empty())
            rule.syscalls.push_back(name);
      } else if (word == "-k") {
        return fail("keys are set by the agent, not in the rules file");
      } else {
        return fail("unsupported option " + word);
      }
    }
    result.rules.push_back(std::move(rule));
  }
  return result;
}

} // namespace auditree
