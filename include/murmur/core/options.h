// Option keys and read access to their values, shared by the config (run/config.h) and the
// components that declare their own keys (an algorithm's section: algo/algorithm.h).
//
// A component lists its keys as OptionSpecs (type, default, range or allowed names, one line
// of help); the run module puts them into the one schema that loading checks and
// docs/config.md documents. The component then reads the checked values through an
// OptionReader, once, into its own options struct.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "murmur/core/enum_names.h"

namespace murmur {

using OptionValue =
    std::variant<bool, int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;
enum class OptionType { kBool, kInt, kFloat, kString, kIntList, kFloatList };

// As a maximum, kOptionInf admits infinity itself (only where the key gives it a meaning);
// kOptionNoMax is "no upper bound" for finite values.
inline constexpr double kOptionInf = std::numeric_limits<double>::infinity();
inline constexpr double kOptionNoMax = std::numeric_limits<double>::max();

struct OptionSpec {
  std::string key;  // "section.name"
  OptionType type;
  OptionValue default_value;
  std::string help;
  double min = -1e300, max = 1e300;  // for numbers (inclusive)
  // Allowed strings (empty: any string).
  std::function<std::vector<std::string>()> choices;
};

// Constructors of the rows of a key table.
OptionSpec IntOption(std::string key, int64_t value, double min, double max, std::string help);
OptionSpec FloatOption(std::string key, double value, double min, double max, std::string help);
OptionSpec BoolOption(std::string key, bool value, std::string help);
OptionSpec StringOption(std::string key, std::string value, std::string help,
                        std::function<std::vector<std::string>()> choices = {});
OptionSpec FloatListOption(std::string key, std::vector<double> value, double min, double max,
                           std::string help);
OptionSpec IntListOption(std::string key, std::string help);
// A string key whose allowed values are the names of an enum table.
template <typename E, size_t N>
OptionSpec EnumOption(std::string key, E value, const EnumNames<E, N>& names, std::string help) {
  return StringOption(std::move(key), std::string(EnumName(names, value)), std::move(help),
                      [&names] {
                        std::vector<std::string> v;
                        for (const auto& [_, n] : names) v.emplace_back(n);
                        return v;
                      });
}

// Checked values by key (a key that is not in the schema, or of another type, is a bug).
class OptionReader {
 public:
  virtual ~OptionReader() = default;
  virtual bool get_bool(const std::string& key) const = 0;
  virtual int64_t get_int(const std::string& key) const = 0;
  virtual double get_double(const std::string& key) const = 0;
  virtual const std::string& get_string(const std::string& key) const = 0;
  virtual const std::vector<int64_t>& get_int_list(const std::string& key) const = 0;
  virtual const std::vector<double>& get_double_list(const std::string& key) const = 0;
  // A string key of an enum, as the enum (the schema already checked the name).
  template <typename E, size_t N>
  E get_enum(const std::string& key, const EnumNames<E, N>& names) const {
    return ParseEnum(names, get_string(key), key, "value");
  }
};

}  // namespace murmur
