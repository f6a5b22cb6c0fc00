// Experiment configuration: a flat set of "section.key" values checked against one schema.
//
// Every key has a type, a default, a one-line help and, where it applies, a range or a list
// of allowed values; docs/config.md is generated from the same schema (`murmur doc-config`).
// Loading rejects unknown keys, wrong types and out-of-range values with a ConfigError that
// names the file, the key and what is allowed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "murmur/core/options.h"

namespace murmur::run {

using Value = OptionValue;
using Type = OptionType;
using KeySpec = OptionSpec;

// All keys, grouped by section in documentation order.
const std::vector<KeySpec>& Schema();
const KeySpec* FindKey(std::string_view key);

// The text of a config or sweep file (`what` names it in errors). Anything but a readable
// regular file is an IoError naming the path: a missing file, a directory, a device.
std::string ReadConfigFile(const std::string& path, const std::string& what);

class Config : public OptionReader {
 public:
  // Every key at its default.
  Config();
  // Defaults overlaid with a TOML file / string. `source` names it in errors.
  static Config FromFile(const std::string& path);
  static Config FromString(std::string_view toml, const std::string& source);

  // Applies "key=value" (a --set argument); the value is parsed for the key's type.
  void set(std::string_view assignment);
  void set_value(const std::string& key, Value v, const std::string& source);

  bool get_bool(const std::string& key) const override;
  int64_t get_int(const std::string& key) const override;
  double get_double(const std::string& key) const override;
  const std::string& get_string(const std::string& key) const override;
  const std::vector<int64_t>& get_int_list(const std::string& key) const override;
  const std::vector<double>& get_double_list(const std::string& key) const override;

  // One value as TOML text ("choco" quoted, 0.01, [1, 2]).
  std::string show(const std::string& key) const;
  // The resolved configuration as TOML, every key written out.
  std::string to_toml() const;
  bool operator==(const Config& o) const { return values_ == o.values_; }

 private:
  std::map<std::string, Value> values_;
};

// docs/config.md, generated from the schema.
std::string SchemaMarkdown();

}  // namespace murmur::run
