#include "murmur/core/check.h"

#include <gtest/gtest.h>

namespace murmur {
namespace {

TEST(Check, ThrowsTypedErrorWithMessageAndLocation) {
  try {
    MURMUR_CHECK(ConfigError, 1 + 1 == 3, "train.lr: must be > 0, got ", -1);
    FAIL() << "no throw";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("train.lr: must be > 0, got -1"), std::string::npos) << what;
    EXPECT_NE(what.find("check_test.cc:"), std::string::npos) << what;
  }
}

TEST(Check, PassingCheckDoesNothing) { EXPECT_NO_THROW(MURMUR_CHECK(DataError, true, "x")); }

TEST(Check, AssertThrowsInternalErrorNamingCondition) {
  try {
    int x = 2;
    MURMUR_ASSERT(x == 3, "x was ", x);
    FAIL();
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("x == 3 failed: x was 2"), std::string::npos) << e.what();
  }
}

TEST(Check, ErrorsShareOneBase) {
  EXPECT_THROW(MURMUR_FAIL(ProtocolError, "bad"), Error);
  EXPECT_THROW(MURMUR_FAIL(IoError, "bad"), Error);
}

}  // namespace
}  // namespace murmur
