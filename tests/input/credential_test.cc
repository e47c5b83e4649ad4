// Secrets come from a 0600 file, an environment variable or a prompt — never argv.
#include "input/credential.h"

#include "mailstore/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace cm {
namespace {

class CredentialFile : public ::testing::Test {
 protected:
  void Write(const std::string& text, mode_t mode) {
    std::ofstream(path_) << text;
    chmod(path_.c_str(), mode);
  }
  testing::TempDir t_;
  std::string dir_ = t_.path().string(), path_ = t_ / "secret";
};

TEST_F(CredentialFile, ReadsTheFirstLineOfA0600File) {
  Write("s3cret-Pass\nignored\n", 0600);
  auto s = LoadSecret("file:" + path_, "source.credential");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->text, "s3cret-Pass");
  EXPECT_EQ(s->source, "file " + path_);
}

TEST_F(CredentialFile, RefusesAFileOthersCanRead) {
  Write("s3cret-Pass\n", 0644);
  auto s = LoadSecret("file:" + path_, "source.credential");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(s.status().message().find("mode 0644"), std::string::npos);
  EXPECT_NE(s.status().message().find("chmod 600"), std::string::npos);
  EXPECT_EQ(s.status().message().find("s3cret"), std::string::npos);  // the secret is never echoed
}

TEST_F(CredentialFile, RefusesA0600FileOwnedByAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "only root can give a file to another user";
  Write("s3cret-Pass\n", 0600);
  ASSERT_EQ(chown(path_.c_str(), 65534, 65534), 0);  // nobody
  auto s = LoadSecret("file:" + path_, "source.credential");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kPermissionDenied);
  const std::string& m = s.status().message();
  EXPECT_NE(m.find("source.credential: credential file " + path_ + " is owned by"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("uid 65534"), std::string::npos) << m;
  EXPECT_NE(m.find("mode 0600"), std::string::npos) << m;
  EXPECT_EQ(m.find("s3cret"), std::string::npos);
  EXPECT_FALSE(LoadSecretTable("file:" + path_, "x").ok()) << "per-user tables too";
  ASSERT_EQ(chown(path_.c_str(), 0, 0), 0);  // root's own file is used
  EXPECT_TRUE(LoadSecret("file:" + path_, "source.credential").ok());
}

TEST_F(CredentialFile, RefusesAnEmptyOrMissingFile) {
  Write("", 0600);
  EXPECT_FALSE(LoadSecret("file:" + path_, "x").ok());
  EXPECT_FALSE(LoadSecret("file:" + dir_ + "/missing", "x").ok());
  EXPECT_FALSE(LoadSecret("file:" + dir_, "x").ok());  // a directory
}

TEST(Credential, FromEnvironment) {
  setenv("CROSSMOVE_TEST_SECRET", "from-env", 1);
  auto s = LoadSecret("env:CROSSMOVE_TEST_SECRET", "target.credential");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->text, "from-env");
  unsetenv("CROSSMOVE_TEST_SECRET");
  EXPECT_FALSE(LoadSecret("env:CROSSMOVE_TEST_SECRET", "target.credential").ok());
}

TEST(Credential, APasswordItselfIsNeverAcceptedOrEchoed) {
  auto s = LoadSecret("hunter2", "source.credential");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().find("hunter2"), std::string::npos);
}

TEST(Credential, PromptNeedsATerminal) {
  if (isatty(STDIN_FILENO)) GTEST_SKIP() << "stdin is a terminal here";
  auto s = LoadSecret("prompt", "source.credential");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("terminal"), std::string::npos);
}

}  // namespace
}  // namespace cm

namespace cm {
namespace {

TEST_F(CredentialFile, PerUserSecretsSplitAtTheFirstColonAndNameBadLinesByNumberOnly) {
  Write("# users of the old server\nalice@fabrikam.test:pa:ss\n\nbob@fabrikam.test:b0b\n", 0600);
  auto table = LoadSecretTable("file:" + path_, "source.databases.DB1.user-credentials");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->size(), 2u);
  EXPECT_EQ(table->at("alice@fabrikam.test"), "pa:ss");
  EXPECT_EQ(table->at("bob@fabrikam.test"), "b0b");

  Write("alice@fabrikam.test:ok\nno-colon-s3cret\n", 0600);
  auto bad = LoadSecretTable("file:" + path_, "user-credentials");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(path_ + ":2: expected name:secret"), std::string::npos)
      << bad.status().message();
  EXPECT_EQ(bad.status().message().find("s3cret"), std::string::npos);

  Write("alice@fabrikam.test:ok\n", 0640);
  EXPECT_EQ(LoadSecretTable("file:" + path_, "user-credentials").status().code(),
            Status::Code::kPermissionDenied);
}

}  // namespace
}  // namespace cm
