#include "murmur/run/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "murmur/core/check.h"

namespace murmur::run {
namespace {

std::string TypeName(Type t) {
  switch (t) {
    case Type::kBool:
      return "a boolean (true/false)";
    case Type::kInt:
      return "an integer";
    case Type::kFloat:
      return "a number";
    case Type::kString:
      return "a string";
    case Type::kIntList:
      return "a list of integers";
    case Type::kFloatList:
      return "a list of numbers";
  }
  return "?";
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    prev.swap(cur);
  }
  return prev[b.size()];
}

const KeySpec& RequireKey(std::string_view key, const std::string& source) {
  if (const KeySpec* k = FindKey(key)) return *k;
  std::string best;
  size_t best_d = 4;
  for (const KeySpec& k : Schema()) {
    size_t d = EditDistance(key, k.key);
    if (d < best_d) {
      best_d = d;
      best = k.key;
    }
  }
  MURMUR_FAIL(ConfigError, source, ": unknown key '", key, "'",
              best.empty() ? std::string("; see docs/config.md for the keys")
                           : "; did you mean '" + best + "'?");
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string Show(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        std::ostringstream os;
        if constexpr (std::is_same_v<T, bool>) {
          os << (x ? "true" : "false");
        } else if constexpr (std::is_same_v<T, std::string>) {
          os << Quote(x);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          os << "[";
          for (size_t i = 0; i < x.size(); ++i) os << (i ? ", " : "") << x[i];
          os << "]";
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          os << "[";
          for (size_t i = 0; i < x.size(); ++i) os << (i ? ", " : "") << Show(Value(x[i]));
          os << "]";
        } else if constexpr (std::is_same_v<T, double>) {
          os.precision(17);
          os << x;
          std::string s = os.str();
          if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
          return s;
        } else {
          os << x;
        }
        return os.str();
      },
      v);
}

// Converts a TOML node to the key's type; ints are accepted where floats are expected.
Value FromToml(const toml::node& node, const KeySpec& spec, const std::string& source) {
  auto fail = [&](const char* got) {
    MURMUR_FAIL(ConfigError, source, ": ", spec.key, ": expected ", TypeName(spec.type), ", got ",
                got);
  };
  switch (spec.type) {
    case Type::kBool:
      if (auto v = node.value_exact<bool>()) return *v;
      break;
    case Type::kInt:
      if (auto v = node.value_exact<int64_t>()) return *v;
      break;
    case Type::kFloat:
      if (auto v = node.value_exact<double>()) return *v;
      if (auto v = node.value_exact<int64_t>()) return static_cast<double>(*v);
      break;
    case Type::kString:
      if (auto v = node.value_exact<std::string>()) return *v;
      break;
    case Type::kIntList:
      if (const toml::array* arr = node.as_array()) {
        std::vector<int64_t> out;
        for (const toml::node& e : *arr) {
          auto v = e.value_exact<int64_t>();
          if (!v) fail("a list with a non-integer element");
          out.push_back(*v);
        }
        return out;
      }
      break;
    case Type::kFloatList:
      if (const toml::array* arr = node.as_array()) {
        std::vector<double> out;
        for (const toml::node& e : *arr) {
          if (auto v = e.value_exact<double>()) {
            out.push_back(*v);
          } else if (auto i = e.value_exact<int64_t>()) {
            out.push_back(static_cast<double>(*i));
          } else {
            fail("a list with a non-number element");
          }
        }
        return out;
      }
      break;
  }
  const char* got = "a date/time";
  switch (node.type()) {
    case toml::node_type::string:
      got = "a string";
      break;
    case toml::node_type::integer:
      got = "an integer";
      break;
    case toml::node_type::floating_point:
      got = "a floating-point number";
      break;
    case toml::node_type::boolean:
      got = "a boolean";
      break;
    case toml::node_type::array:
      got = "an array";
      break;
    case toml::node_type::table:
      got = "a table";
      break;
    default:
      break;
  }
  fail(got);
  return {};
}

// Parses a --set value for the key's type.
Value FromText(std::string_view text, const KeySpec& spec, const std::string& source) {
  auto fail = [&] {
    MURMUR_FAIL(ConfigError, source, ": ", spec.key, ": expected ", TypeName(spec.type), ", got '",
                text, "'");
  };
  auto parse_int = [&](std::string_view t) {
    int64_t v = 0;
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p != t.data() + t.size() || t.empty()) fail();
    return v;
  };
  auto parse_double = [&](std::string_view t) {
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    std::string s(t);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) fail();
    return v;
  };
  switch (spec.type) {
    case Type::kBool:
      if (text == "true") return true;
      if (text == "false") return false;
      fail();
      break;
    case Type::kInt:
      return parse_int(text);
    case Type::kFloat:
      return parse_double(text);
    case Type::kString:
      if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
        return std::string(text.substr(1, text.size() - 2));
      return std::string(text);
    case Type::kIntList:
    case Type::kFloatList: {
      std::string_view t = text;
      if (!t.empty() && t.front() == '[') t.remove_prefix(1);
      if (!t.empty() && t.back() == ']') t.remove_suffix(1);
      std::vector<int64_t> ints;
      std::vector<double> reals;
      while (!t.empty()) {
        const size_t comma = t.find(',');
        if (spec.type == Type::kIntList) {
          ints.push_back(parse_int(t.substr(0, comma)));
        } else {
          reals.push_back(parse_double(t.substr(0, comma)));
        }
        if (comma == std::string_view::npos) break;
        t.remove_prefix(comma + 1);
      }
      if (spec.type == Type::kIntList) return ints;
      return reals;
    }
  }
  return {};
}

// "[0, inf)" (no upper bound, finite values), "[1e-06, inf]" (infinity allowed), "[1, 16]".
std::string RangeText(const KeySpec& k) {
  std::ostringstream r;
  r << "[" << k.min << ", ";
  if (std::isinf(k.max))
    r << "inf]";
  else if (k.max == DBL_MAX)
    r << "inf)";
  else
    r << k.max << "]";
  return r.str();
}

void Check(const KeySpec& spec, const Value& v, const std::string& source) {
  auto in_range = [&](double x) {
    MURMUR_CHECK(ConfigError, std::isfinite(x) || spec.max == INFINITY, source, ": ", spec.key,
                 ": must be finite, got ", x);
    MURMUR_CHECK(ConfigError, x >= spec.min && x <= spec.max, source, ": ", spec.key,
                 ": must be in ", RangeText(spec), ", got ", x);
  };
  if (auto* i = std::get_if<int64_t>(&v)) in_range(static_cast<double>(*i));
  if (auto* d = std::get_if<double>(&v)) {
    MURMUR_CHECK(ConfigError, !std::isnan(*d), source, ": ", spec.key, ": must not be NaN");
    in_range(*d);
  }
  if (auto* l = std::get_if<std::vector<int64_t>>(&v))
    for (int64_t x : *l) in_range(static_cast<double>(x));
  if (auto* l = std::get_if<std::vector<double>>(&v)) {
    for (double x : *l) {
      MURMUR_CHECK(ConfigError, !std::isnan(x), source, ": ", spec.key, ": must not hold NaN");
      in_range(x);
    }
  }
  if (auto* s = std::get_if<std::string>(&v); s && spec.choices) {
    const auto allowed = spec.choices();
    if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
      std::string list;
      for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      MURMUR_FAIL(ConfigError, source, ": ", spec.key, ": unknown value '", *s,
                  "'; allowed: ", list);
    }
  }
}

void Flatten(const toml::table& t, const std::string& prefix, const std::string& source,
             Config& cfg) {
  for (const auto& [k, node] : t) {
    const std::string key =
        prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const toml::table* sub = node.as_table()) {
      MURMUR_CHECK(ConfigError, prefix.empty(), source, ": unknown section '", key, "'");
      Flatten(*sub, key, source, cfg);
      continue;
    }
    MURMUR_CHECK(ConfigError, !prefix.empty(), source, ": key '", key,
                 "' must sit in a section such as [run] or [train]");
    const KeySpec& spec = RequireKey(key, source);
    cfg.set_value(key, FromToml(node, spec, source), source);
  }
}

}  // namespace

Config::Config() {
  for (const KeySpec& k : Schema()) values_[k.key] = k.default_value;
}

Config Config::FromString(std::string_view text, const std::string& source) {
  Config cfg;
  toml::table t;
  try {
    t = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    MURMUR_FAIL(ConfigError, source, ":", b.line, ":", b.column,
                ": TOML syntax error: ", e.description());
  }
  Flatten(t, "", source, cfg);
  return cfg;
}

Config Config::FromFile(const std::string& path) {
  return FromString(ReadConfigFile(path, "config file"), path);
}

std::string ReadConfigFile(const std::string& path, const std::string& what) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  MURMUR_CHECK(IoError, !ec || status.type() == std::filesystem::file_type::not_found, path,
               ": cannot open ", what, " (", ec.message(), ")");
  MURMUR_CHECK(IoError, status.type() != std::filesystem::file_type::not_found, path,
               ": cannot open ", what, " (no such file)");
  MURMUR_CHECK(
      IoError, status.type() == std::filesystem::file_type::regular, path, ": the ", what, " is ",
      status.type() == std::filesystem::file_type::directory ? "a directory" : "not a regular file",
      "; give a TOML file");
  std::ifstream in(path, std::ios::binary);
  MURMUR_CHECK(IoError, in.good(), path, ": cannot open ", what, " (", std::strerror(errno), ")");
  std::stringstream ss;
  ss << in.rdbuf();
  MURMUR_CHECK(IoError, !in.bad(), path, ": cannot read ", what, " (", std::strerror(errno), ")");
  return ss.str();
}

void Config::set(std::string_view assignment) {
  const size_t eq = assignment.find('=');
  MURMUR_CHECK(ConfigError, eq != std::string_view::npos && eq > 0, "--set '", assignment,
               "': expected key=value");
  const std::string key(assignment.substr(0, eq));
  const KeySpec& spec = RequireKey(key, "--set");
  set_value(key, FromText(assignment.substr(eq + 1), spec, "--set"), "--set");
}

void Config::set_value(const std::string& key, Value v, const std::string& source) {
  const KeySpec& spec = RequireKey(key, source);
  if (spec.type == Type::kFloat)
    if (auto* i = std::get_if<int64_t>(&v)) v = static_cast<double>(*i);
  MURMUR_CHECK(ConfigError, v.index() == spec.default_value.index(), source, ": ", key,
               ": expected ", TypeName(spec.type));
  Check(spec, v, source);
  values_[key] = std::move(v);
}

namespace {
template <typename T>
const T& Get(const std::map<std::string, Value>& m, const std::string& key) {
  auto it = m.find(key);
  MURMUR_ASSERT(it != m.end(), "config key '", key, "' not in schema");
  const T* v = std::get_if<T>(&it->second);
  MURMUR_ASSERT(v, "config key '", key, "' read with the wrong type");
  return *v;
}
}  // namespace

bool Config::get_bool(const std::string& k) const { return Get<bool>(values_, k); }
int64_t Config::get_int(const std::string& k) const { return Get<int64_t>(values_, k); }
double Config::get_double(const std::string& k) const { return Get<double>(values_, k); }
const std::string& Config::get_string(const std::string& k) const {
  return Get<std::string>(values_, k);
}
const std::vector<int64_t>& Config::get_int_list(const std::string& k) const {
  return Get<std::vector<int64_t>>(values_, k);
}
const std::vector<double>& Config::get_double_list(const std::string& k) const {
  return Get<std::vector<double>>(values_, k);
}

std::string Config::show(const std::string& key) const {
  auto it = values_.find(key);
  MURMUR_CHECK(ConfigError, it != values_.end(), "unknown key '", key, "'");
  return Show(it->second);
}

std::string Config::to_toml() const {
  std::ostringstream os;
  os << "# Resolved murmur configuration: every key, defaults included.\n";
  std::string section;
  for (const KeySpec& k : Schema()) {
    const std::string sec = k.key.substr(0, k.key.find('.'));
    if (sec != section) {
      os << (section.empty() ? "" : "\n") << "[" << sec << "]\n";
      section = sec;
    }
    os << k.key.substr(k.key.find('.') + 1) << " = " << Show(values_.at(k.key)) << "\n";
  }
  return os.str();
}

std::string SchemaMarkdown() {
  std::ostringstream os;
  os << "# Configuration reference\n\n"
     << "Generated by `murmur doc-config` from the schema in `src/run/schema.cc`; a test keeps "
        "this file in sync.\n\n"
     << "A config is a TOML file with the sections below. Every key is optional and falls "
        "back to its default; unknown keys, wrong types and out-of-range values are errors "
        "that name the key. `murmur run CONFIG --set section.key=value` overrides any key. "
        "The run directory gets `config.toml` with every key resolved.\n";
  std::string section;
  for (const KeySpec& k : Schema()) {
    const std::string sec = k.key.substr(0, k.key.find('.'));
    if (sec != section) {
      os << "\n## [" << sec << "]\n\n| key | type | default | allowed | meaning |\n"
         << "|---|---|---|---|---|\n";
      section = sec;
    }
    std::string allowed;
    if (k.choices) {
      for (auto& c : k.choices()) allowed += (allowed.empty() ? "" : ", ") + ("`" + c + "`");
    } else if (k.type == Type::kInt || k.type == Type::kFloat || k.type == Type::kIntList ||
               k.type == Type::kFloatList) {
      allowed = RangeText(k);
    }
    const char* type = k.type == Type::kBool      ? "bool"
                       : k.type == Type::kInt     ? "int"
                       : k.type == Type::kFloat   ? "float"
                       : k.type == Type::kString  ? "string"
                       : k.type == Type::kIntList ? "int list"
                                                  : "float list";
    os << "| `" << k.key << "` | " << type << " | `" << Show(k.default_value) << "` | " << allowed
       << " | " << k.help << " |\n";
  }
  return os.str();
}

}  // namespace murmur::run
