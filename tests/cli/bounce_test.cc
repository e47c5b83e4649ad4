// Bounces are loud (issue 12): a cleanup that leaves no forwarding object makes `plan` and `run`
// warn with the count of old addresses that will bounce, and `verify` counts every NDR in its
// summary, failing on one the cleanup option does not imply. Through the real binary.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "cli/org.h"

namespace cm {
namespace {

using testing::Org;

// The old addresses of the source's mailboxes (or of one), counted from the LDIF file with the
// tests' own reader: SMTP, the smtp proxies; X500, the X500 proxies plus the legacyExchangeDN.
struct OldAddressCount {
  size_t smtp = 0, x500 = 0;
  size_t total() const { return smtp + x500; }
};
OldAddressCount OldAddressesByKind(const Org& org, const std::string& cn = "") {
  OldAddressCount n;
  for (auto& record : testing::ParseLdif(org.Read("source.ldif"))) {
    if (record["homemdb"].empty() || (!cn.empty() && record["cn"] != std::vector{cn})) continue;
    for (const auto& p : record["proxyaddresses"]) {
      n.smtp += IStartsWith(p, "smtp:");
      n.x500 += IStartsWith(p, "x500:");
    }
    n.x500 += record["legacyexchangedn"].size();
  }
  return n;
}
size_t OldAddresses(const Org& org, const std::string& cn = "") {
  return OldAddressesByKind(org, cn).total();
}

TEST(Bounces, PlanAndRunWarnWithTheCountOfOldAddressesThatWillBounce) {
  Org org(3, 10, "DeleteSourceMailbox");
  CM_ASSERT_ORG(org);
  OldAddressCount kinds = OldAddressesByKind(org);
  size_t old = kinds.total();
  std::map<std::string, OldAddressCount> by_dn;  // before the cleanups remove them
  for (auto& record : testing::ParseLdif(org.Read("source.ldif"))) {
    if (!record["homemdb"].empty())
      by_dn[record["dn"].at(0)] = OldAddressesByKind(org, record["cn"].at(0));
  }
  ASSERT_EQ(by_dn.size(), 3u);
  ASSERT_GT(kinds.smtp, 1u);
  ASSERT_GT(kinds.x500, 1u);
  // SMTP addresses bounce; X500 ones, what replies to old mail are sent to, fail: said apart.
  std::string warning = fmt::format(
      "crossmove: warning: DeleteSourceMailbox leaves no forwarding object for 3 mailboxes: {} "
      "SMTP addresses will bounce (no object left to forward them); {} X500/legacyExchangeDN "
      "addresses (replies to old mail) will fail.",
      kinds.smtp, kinds.x500);
  auto plan = org.Run({"plan"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.err.find(warning), std::string::npos) << plan.err;
  auto json = org.Run({"plan", "--json"});
  auto counted = nlohmann::json::parse(json.out)["addresses_that_will_bounce"];
  EXPECT_EQ(counted["smtp"], kinds.smtp) << json.out;
  EXPECT_EQ(counted["x500"], kinds.x500) << json.out;
  auto run_json = org.Run({"run", "--json"});
  ASSERT_EQ(run_json.exit_code, 0) << run_json.err;
  EXPECT_NE(run_json.err.find(warning), std::string::npos) << run_json.err;
  counted = nlohmann::json::parse(run_json.out)["addresses_that_will_bounce"];
  EXPECT_EQ(counted["smtp"], kinds.smtp) << run_json.out;
  EXPECT_EQ(counted["x500"], kinds.x500) << run_json.out;

  // Expected bounces are counted and shown; they do not fail verify.
  auto verify = org.Run({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_NE(verify.out.find(fmt::format("0 unexpected, {} bounce (NDR; {} SMTP, {} X500; expected: "
                                        "DeleteSourceMailbox leaves no forwarding object)",
                                        old, kinds.smtp, kinds.x500)),
            std::string::npos)
      << verify.out;
  auto j = nlohmann::json::parse(org.Run({"verify", "--json"}).out);
  EXPECT_EQ(j["ndr"], old);
  EXPECT_EQ(j["ndr_expected"], old);
  EXPECT_EQ(j["ndr_smtp"], kinds.smtp);
  EXPECT_EQ(j["ndr_x500"], kinds.x500);
  // A rerun cleans nothing up: nothing more will bounce, so no warning.
  auto rerun = org.Run({"run"});
  EXPECT_EQ(rerun.err.find("will bounce"), std::string::npos) << rerun.err;
  EXPECT_EQ(rerun.err.find("will fail"), std::string::npos) << rerun.err;
  // The report, the migration's evidence, keeps what the cleanups left to bounce, each mailbox's
  // own (its old addresses, counted from the LDIF above) and in all, after the rerun too.
  auto rows = testing::ParseCsv(org.Read("crossmove-report.csv"));
  ASSERT_EQ(rows.size(), 3u) << org.Read("crossmove-report.csv");
  for (auto& row : rows) {
    const OldAddressCount& own = by_dn[row.at("source_dn")];
    EXPECT_GT(own.total(), 0u) << row.at("source_dn");
    EXPECT_EQ(row.at("bouncing_smtp"), std::to_string(own.smtp)) << row.at("source_dn");
    EXPECT_EQ(row.at("bouncing_x500"), std::to_string(own.x500)) << row.at("source_dn");
  }
  std::string html = org.Read("crossmove-report.html");
  EXPECT_NE(html.find(fmt::format("<dt>old addresses left to bounce</dt><dd>{} SMTP addresses",
                                  kinds.smtp)),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("of 3 mailboxes cleaned up without a forwarder (3 so far)"),
            std::string::npos)
      << html;
}

// One mailbox: the counts and nouns in the singular where they are one.
TEST(Bounces, OneMailboxsWarningSaysMailboxInTheSingular) {
  Org org(1, 2, "DeleteSourceNTAccount");
  CM_ASSERT_ORG(org);
  OldAddressCount kinds = OldAddressesByKind(org);
  auto plan = org.Run({"plan"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.err.find(fmt::format("DeleteSourceNTAccount leaves no forwarding object for 1 "
                                      "mailbox: {} SMTP address{} will bounce",
                                      kinds.smtp, kinds.smtp == 1 ? "" : "es")),
            std::string::npos)
      << plan.err;
  EXPECT_EQ(plan.err.find("1 mailboxes"), std::string::npos) << plan.err;
}

TEST(Bounces, AForwardingCleanupGivesNoWarning) {
  Org org(2, 4, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  auto plan = org.Run({"plan"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(plan.err.find("will bounce"), std::string::npos) << plan.err;
  auto run = org.Run({"run"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err.find("will bounce"), std::string::npos) << run.err;
  auto verify = org.Run({"verify"});
  EXPECT_NE(verify.out.find("0 unexpected, 0 bounce,"), std::string::npos) << verify.out;
  for (auto& row : testing::ParseCsv(org.Read("crossmove-report.csv"))) {
    EXPECT_EQ(row.at("bouncing_smtp"), "0");
    EXPECT_EQ(row.at("bouncing_x500"), "0");
  }
  EXPECT_EQ(org.Read("crossmove-report.html").find("left to bounce"), std::string::npos);
}

// The summary says where the addresses of rolled-back mailboxes land: all at the old mailbox,
// as expected, none a warning (it used to say "0 still delivering to the old mailbox").
TEST(Bounces, AfterARollbackVerifyCountsEveryAddressStillAtTheOldMailbox) {
  Org org(2, 4, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  size_t old = OldAddresses(org);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  ASSERT_EQ(org.Run({"rollback", "--all"}).exit_code, 0);
  auto verify = org.Run({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_NE(verify.out.find(fmt::format("{} addresses, 0 unexpected, 0 bounce, {} still at the "
                                        "old mailbox\n",
                                        old, old)),
            std::string::npos)
      << verify.out;
  auto j = nlohmann::json::parse(org.Run({"verify", "--json"}).out);
  EXPECT_EQ(j["at_old_mailbox"], old);
  EXPECT_EQ(j["warnings"], 0);
}

TEST(Bounces, VerifyFailsOnABounceTheCleanupDoesNotImply) {
  Org org(2, 4, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  size_t alices = OldAddresses(org, "Alice Adams");
  ASSERT_GT(alices, 0u);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  // Someone deletes Alice's forwarding contact: her old addresses now bounce.
  auto source = org.Directory("source", /*writable=*/true);
  ASSERT_TRUE(source);
  ASSERT_TRUE(source->Delete("CN=Alice Adams,OU=Contacts,DC=fabrikam,DC=test").ok());
  source.reset();
  auto verify = org.Run({"verify"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  EXPECT_NE(verify.out.find(fmt::format("{} unexpected, {} bounce (NDR; ", alices, alices)),
            std::string::npos)
      << verify.out;
  EXPECT_NE(verify.out.find(fmt::format(" X500; {} unexpected)", alices)), std::string::npos)
      << verify.out;
}

// Only what the cleanup makes bounce is counted (new-user trial): an SMTP proxy in a domain
// the source organization does not accept never reached the old mailbox (verify routes it as
// external), and an X500 proxy that repeats the legacyExchangeDN in another case is one
// address. Plan, run and verify agree on the count.
TEST(Bounces, AnExternalProxyAndALegacyDnRepeatedInAnotherCaseAreNotCounted) {
  Org org(1, 2, "DeleteSourceMailbox");
  CM_ASSERT_ORG(org);
  OldAddressCount kinds = OldAddressesByKind(org);
  std::string ldif = org.Read("source.ldif");
  size_t at = ldif.find("legacyExchangeDN: ");
  ASSERT_NE(at, std::string::npos);
  size_t end = ldif.find('\n', at);
  std::string legacy = ldif.substr(at + 18, end - at - 18);
  ldif.insert(end + 1, "proxyAddresses: smtp:someone@partner.example\nproxyAddresses: X500:" +
                           AsciiUpper(legacy) + "\n");
  testing::Spit(org.dir() / "source.ldif", ldif);
  ASSERT_NE(org.Read("crossmove.toml").find("domains = [\"fabrikam.test\""), std::string::npos);
  auto plan = org.Run({"plan", "--json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  auto j = nlohmann::json::parse(plan.out);
  EXPECT_EQ(j["addresses_that_will_bounce"]["smtp"], kinds.smtp) << plan.out;
  EXPECT_EQ(j["addresses_that_will_bounce"]["x500"], kinds.x500) << plan.out;
  EXPECT_EQ(j["mailboxes"][0]["addresses_that_will_bounce"]["smtp"], kinds.smtp) << plan.out;
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  auto verify = nlohmann::json::parse(org.Run({"verify", "--json"}).out);
  EXPECT_EQ(verify["ndr_smtp"], kinds.smtp) << verify.dump();
  EXPECT_EQ(verify["ndr_x500"], kinds.x500) << verify.dump();
  auto rows = testing::ParseCsv(org.Read("crossmove-report.csv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("bouncing_smtp"), std::to_string(kinds.smtp));
  EXPECT_EQ(rows[0].at("bouncing_x500"), std::to_string(kinds.x500));
}

// A staged move says it too: `plan` on mailboxes synced and waiting for `complete` warns as
// `complete` will, and counts them in its JSON.
TEST(Bounces, PlanWarnsAboutSyncedMailboxesWaitingForTheirCompletion) {
  Org org(2, 3, "DeleteSourceMailbox");
  CM_ASSERT_ORG(org);
  OldAddressCount kinds = OldAddressesByKind(org);
  auto sync = org.Run({"run", "--suspend-when-ready"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  auto plan = org.Run({"plan"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.err.find(fmt::format("leaves no forwarding object for 2 mailboxes: {} SMTP "
                                      "addresses will bounce",
                                      kinds.smtp)),
            std::string::npos)
      << plan.out << plan.err;
  auto j = nlohmann::json::parse(org.Run({"plan", "--json"}).out);
  EXPECT_EQ(j["addresses_that_will_bounce"]["smtp"], kinds.smtp) << j.dump();
  ASSERT_EQ(j["journaled"].size(), 2u) << j.dump();
  EXPECT_GT(j["journaled"][0]["addresses_that_will_bounce"]["smtp"], 0u) << j.dump();
  ASSERT_EQ(org.Run({"complete", "--all"}).exit_code, 0);
  // Cleaned up: nothing more will bounce by this migration's hand.
  auto after = org.Run({"plan"});
  EXPECT_EQ(after.err.find("will bounce"), std::string::npos) << after.err;
}

}  // namespace
}  // namespace cm
