// A string-keyed registry of named components with one line of help each.
//
// Built-ins are registered explicitly from one function per module (see run/registry.h),
// never from static initialisers. Lookup of an unknown name throws ConfigError listing the
// names that exist. Not thread-safe for registration; lookups may run concurrently.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "murmur/core/check.h"

namespace murmur {

template <typename Factory>
class Registry {
 public:
  struct Entry {
    std::string name;
    std::string help;
    Factory value;
  };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  void add(std::string name, std::string help, Factory value) {
    MURMUR_ASSERT(!entries_.count(name), "duplicate ", kind_, " '", name, "'");
    entries_[name] = Entry{name, std::move(help), std::move(value)};
  }
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  // `key` names the config key the name came from, for the error message.
  const Entry& get(const std::string& name, const std::string& key = "") const {
    auto it = entries_.find(name);
    MURMUR_CHECK(ConfigError, it != entries_.end(), key.empty() ? kind_ : key, ": unknown ", kind_,
                 " '", name, "'; allowed: ", names_joined());
    return it->second;
  }
  std::vector<const Entry*> entries() const {
    std::vector<const Entry*> out;
    for (auto& [_, e] : entries_) out.push_back(&e);
    return out;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (auto& [n, _] : entries_) out.push_back(n);
    return out;
  }
  std::string names_joined() const {
    std::string s;
    for (auto& [n, _] : entries_) s += (s.empty() ? "" : ", ") + n;
    return s;
  }
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace murmur
