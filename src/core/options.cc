#include "murmur/core/options.h"

#include <utility>

namespace murmur {

OptionSpec IntOption(std::string key, int64_t value, double min, double max, std::string help) {
  return {std::move(key), OptionType::kInt, value, std::move(help), min, max, {}};
}
OptionSpec FloatOption(std::string key, double value, double min, double max, std::string help) {
  return {std::move(key), OptionType::kFloat, value, std::move(help), min, max, {}};
}
OptionSpec BoolOption(std::string key, bool value, std::string help) {
  return {std::move(key), OptionType::kBool, value, std::move(help), 0, 0, {}};
}
OptionSpec StringOption(std::string key, std::string value, std::string help,
                        std::function<std::vector<std::string>()> choices) {
  return {std::move(key),    OptionType::kString, std::move(value), std::move(help), 0, 0,
          std::move(choices)};
}
OptionSpec FloatListOption(std::string key, std::vector<double> value, double min, double max,
                           std::string help) {
  return {std::move(key), OptionType::kFloatList, std::move(value), std::move(help), min, max, {}};
}
OptionSpec IntListOption(std::string key, std::string help) {
  return {std::move(key),
          OptionType::kIntList,
          std::vector<int64_t>{},
          std::move(help),
          0,
          kOptionNoMax,
          {}};
}

}  // namespace murmur
