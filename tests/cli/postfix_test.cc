// Mail continuity proven by a real MTA (SPEC §7): a Postfix for the source organization looks its
// recipients up in the source OpenLDAP server and delivers by LMTP into the source Dovecot, or
// forwards to targetAddress into the target Dovecot. Every old address is sent to over SMTP
// after the move (and during it), the mail is read back over IMAP, and `verify --mta` must
// agree with what Postfix did.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/org.h"
#include "cli/source_mta.h"
#include "core/planner.h"
#include "core/proxy_address.h"

namespace cm {
namespace {

using testing::Found;
using testing::MessageIds;
using testing::OldAddresses;
using testing::Org;
using testing::RepoFile;
using testing::RunProgram;
using testing::Slurp;
using testing::SourceMta;
namespace fs = std::filesystem;

class AfterTheMove : public ::testing::TestWithParam<CleanupOption> {};

TEST_P(AfterTheMove, EveryOldAddressLandsWhereVerifyAndPostfixBothSay) {
  Org org(20, 40, std::string(ToString(GetParam())));
  CM_ASSERT_ORG(org);
  SourceMta mta(org);
  CM_ASSERT_MTA(mta);
  auto run = org.Run({"run"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;

  // The model's prediction and Postfix's RCPT answers, address by address.
  auto verify = org.Run({"verify", "--json", "--mta", mta.url()});
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  auto report = nlohmann::json::parse(verify.out);
  EXPECT_EQ(report["mta_disagreements"], 0);
  std::map<std::string, bool, ILess> delivers;  // address -> the model delivers it
  for (const auto& m : report["mailboxes"]) {
    for (const auto& a : m["addresses"]) {
      if (!a.contains("mta")) continue;
      delivers[a["address"]] = a["outcome"] == "delivered";
      EXPECT_TRUE(a["mta"]["agrees"].get<bool>()) << a.dump();
    }
  }

  // Then real mail to every old address, primary and secondary, in capitals too.
  auto addresses = OldAddresses(org);
  ASSERT_GE(addresses.size(), 60u);
  std::vector<std::string> to;
  for (const auto& [address, alias] : addresses) to.push_back(address);
  auto codes = mta.Send("after", to);
  ASSERT_EQ(mta.Flush(), "");
  bool to_new = GetParam() == CleanupOption::kCreateSourceContact ||
                GetParam() == CleanupOption::kMailEnableSourceAccount;
  bool to_old = GetParam() == CleanupOption::kNone;
  Found where = MessageIds(org, to_old ? "source" : "target");
  for (size_t n = 0; n < addresses.size(); ++n) {
    const auto& [address, alias] = addresses[n];
    std::string id = fmt::format("<after-{}@crossmove.test>", n);
    ASSERT_TRUE(delivers.count(address)) << address << " was not in verify's report";
    // What Postfix did is what verify predicted.
    EXPECT_EQ(codes[address] == 250, delivers[address]) << address << ": " << codes[address];
    if (to_new || to_old) {
      EXPECT_EQ(codes[address], 250) << address;
      EXPECT_EQ(where.count[id], 1) << address << " -> " << id;
      EXPECT_EQ(where.owner[id], alias) << address;
    } else {
      EXPECT_EQ(codes[address], 550) << address;  // DeleteSourceMailbox / DeleteSourceNTAccount
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Postfix, AfterTheMove, ::testing::ValuesIn(kAllCleanupOptions),
                         [](const auto& info) { return std::string(ToString(info.param)); });

TEST(Postfix, MailSentDuringTheMoveArrivesOnceInTheNewMailbox) {
  Org org(10, 300, "MailEnableSourceAccount");
  CM_ASSERT_ORG(org);
  SourceMta mta(org);
  CM_ASSERT_MTA(mta);
  std::string list;
  for (const auto& [address, alias] : OldAddresses(org)) list += address + "\n";
  testing::Spit(org.dir() / "trickle-addresses", list);
  fs::create_directories(org.dir() / "trickle");
  // 40 messages a second from before the run until after it, at least 240: some before each
  // mailbox's copy, some during it, some between its final pass and its cleanup, some after.
  auto started = RunProgram(
      {"python3", RepoFile("tests/imap/smtp_trickle.py"), mta.url().substr(7),
       (org.dir() / "trickle-addresses").string(), (org.dir() / "trickle").string(), "240", "40"},
      org.dir());
  ASSERT_EQ(started.exit_code, 0) << started.err;
  // The sweep waits a second after each cleanup for what Postfix already queued for the old
  // mailbox.
  auto run = org.Run({"run", "--parallel", "2", "--sweep-delay", "1"}, {"CROSSMOVE_PAUSE_MS=60"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  sleep(1);  // mail after the run: every address forwards
  testing::Spit(org.dir() / "trickle" / "stop", "");
  for (int i = 0; i < 600 && !fs::exists(org.dir() / "trickle" / "done"); ++i) usleep(50000);
  ASSERT_TRUE(fs::exists(org.dir() / "trickle" / "done"));
  ASSERT_EQ(mta.Flush(), "");

  std::map<std::string, std::string> alias_of;
  for (const auto& [address, alias] : OldAddresses(org)) alias_of[address] = alias;
  Found target = MessageIds(org, "target");
  size_t sent = 0, lost = 0, duplicated = 0, bounced = 0, elsewhere = 0;
  std::string details;
  for (const auto& line : Split(Slurp(org.dir() / "trickle" / "sent"), '\n')) {
    auto cells = Split(line, '\t');
    if (cells.size() != 3) continue;
    ++sent;
    std::string id = fmt::format("<trickle-{}@crossmove.test>", cells[0]);
    int copies = target.count[id];
    bounced += cells[2] != "250";
    lost += cells[2] == "250" && copies == 0;
    duplicated += copies > 1;
    elsewhere += copies == 1 && target.owner[id] != alias_of[cells[1]];
    if (cells[2] != "250" || copies != 1) details += line + " -> " + std::to_string(copies) + "\n";
  }
  EXPECT_GE(sent, 240u);
  // The trickle covered the move: mail went into old mailboxes (and was moved from there) and
  // straight to new ones through the forwarding.
  std::string log = mta.Log();
  size_t to_old = 0, to_new = 0;
  for (const auto& line : Split(log, '\n')) {
    if (line.find("status=sent") == std::string::npos) continue;
    to_old += line.find(fmt::format("]:{},", org.LmtpPort("source"))) != std::string::npos;
    to_new += line.find(fmt::format("]:{},", org.LmtpPort("target"))) != std::string::npos;
  }
  EXPECT_GT(to_old, 20u);
  EXPECT_GT(to_new, 20u);
  EXPECT_EQ(to_old + to_new, sent);
  EXPECT_EQ(bounced, 0u) << details;
  EXPECT_EQ(lost, 0u) << details;
  EXPECT_EQ(duplicated, 0u) << details;
  EXPECT_EQ(elsewhere, 0u);
  // Nothing was delivered to an old mailbox after its last sweep.
  auto verify = org.Run({"verify", "--json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_EQ(nlohmann::json::parse(verify.out)["left_behind"], 0);
}

TEST(Postfix, AfterARollbackTheOldAddressesReachTheOldMailboxesAgain) {
  Org org(4, 40, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  SourceMta mta(org);
  CM_ASSERT_MTA(mta);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  ASSERT_EQ(org.Run({"rollback", "--all"}).exit_code, 0);
  auto verify = org.Run({"verify", "--json", "--mta", mta.url()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_EQ(nlohmann::json::parse(verify.out)["mta_disagreements"], 0);
  auto addresses = OldAddresses(org);
  std::vector<std::string> to;
  for (const auto& [address, alias] : addresses) to.push_back(address);
  auto codes = mta.Send("back", to);
  ASSERT_EQ(mta.Flush(), "");
  Found source = MessageIds(org, "source");
  for (size_t n = 0; n < addresses.size(); ++n) {
    std::string id = fmt::format("<back-{}@crossmove.test>", n);
    EXPECT_EQ(codes[addresses[n].first], 250) << addresses[n].first;
    EXPECT_EQ(source.count[id], 1) << addresses[n].first;
    EXPECT_EQ(source.owner[id], addresses[n].second) << addresses[n].first;
  }
}

// A mail-enabled user's or contact's X500 addresses cannot be asked of an MTA (they are not SMTP
// addresses): verify reports them from the model alone, and --mta asks only about SMTP ones.
TEST(Postfix, OnlySmtpAddressesAreAskedOfTheMta) {
  Org org(4, 20, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  SourceMta mta(org);
  CM_ASSERT_MTA(mta);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  auto verify = org.Run({"verify", "--json", "--mta", mta.url()});
  ASSERT_EQ(verify.exit_code, 0) << verify.out;
  size_t x500 = 0, asked = 0;
  auto report = nlohmann::json::parse(verify.out);
  for (const auto& m : report["mailboxes"]) {
    for (const auto& a : m["addresses"]) {
      bool is_x500 = a["address"].get<std::string>().starts_with("X500:");
      x500 += is_x500;
      asked += a.contains("mta");
      EXPECT_EQ(a.contains("mta"), !is_x500) << a.dump();
    }
  }
  EXPECT_GT(x500, 0u);
  EXPECT_GT(asked, 0u);
  auto down = org.Run({"verify", "--mta", "smtp://127.0.0.1:1"});
  EXPECT_EQ(down.exit_code, 3) << down.out << down.err;
}

}  // namespace
}  // namespace cm
