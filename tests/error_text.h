// Error messages in tests: the text an expression throws, and whether it names what it should.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "murmur/core/check.h"

namespace murmur::test_util {

// The what() of the E (a murmur error type) that f throws; "<no error>" when it throws none.
template <class E = Error>
std::string ErrorText(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no error>";
}

// For EXPECT_TRUE: text contains part (the failure message shows both).
inline ::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

}  // namespace murmur::test_util
