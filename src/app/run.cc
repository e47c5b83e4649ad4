#include "app/run.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "app/apply.h"
#include "app/bounces.h"
#include "app/event_log.h"
#include "app/identity_resolver.h"
#include "app/mail_stores.h"
#include "app/organizations.h"
#include "app/plan_output.h"
#include "app/preflight.h"
#include "app/progress_line.h"
#include "app/report.h"
#include "app/validator.h"
#include "core/dn.h"
#include "core/routing.h"
#include "core/smtp.h"
#include "core/strings.h"
#include "journal/journal.h"
#include "journal/run_lock.h"
#include "journal/serialize.h"
#include "mailstore/copy_engine.h"
#include "mta/smtp_probe.h"

namespace cm {

namespace {

using Clock = std::chrono::steady_clock;

// Set by SIGINT / SIGTERM during a run: workers stop at the next safe point (between steps,
// mailboxes, or messages of a copy), the report is written and the run exits 5. A second signal
// ends the process at once (SA_RESETHAND); the journal makes that safe too.
std::atomic<bool> g_stop{false};
std::atomic<int> g_stop_signal{0};

extern "C" void StopAtSafePoint(int signal) {
  g_stop_signal = signal;
  g_stop = true;
  static const char kSaid[] =
      "\ncrossmove: stopping at a safe point (the message being copied is finished); press "
      "Ctrl-C again to stop at once\n";
  ssize_t ignored = ::write(STDERR_FILENO, kSaid, sizeof kSaid - 1);
  (void)ignored;
}

// Installs StopAtSafePoint for SIGINT and SIGTERM while it lives.
class StopSignals {
 public:
  StopSignals() {
    g_stop = false;
    struct sigaction sa {};
    sa.sa_handler = StopAtSafePoint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

// Live progress (SPEC §9): on a terminal one line redrawn in place at most 4 times a second,
// cut to the terminal's width (app/progress_line.h); a line per finished mailbox, with its final
// state, on a terminal or not.
class Progress {
 public:
  Progress(Console console, size_t total, uint64_t known_bytes, size_t known)
      : console_(console),
        total_(total),
        known_bytes_(known_bytes),
        known_(known),
        tty_(::isatty(STDERR_FILENO)) {}
  // A mailbox whose size the snapshot just learnt: the ETA counts it.
  void Sized(uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    known_bytes_ += bytes;
    ++known_;
  }
  void Copied(const std::string& mailbox, const CopyProgress& p) {
    std::lock_guard<std::mutex> lock(mu_);
    CopyProgress& before = active_[mailbox];
    messages_ += p.messages - std::min(p.messages, before.messages);
    bytes_ += p.bytes - std::min(p.bytes, before.bytes);
    before = p;
    if (!tty_) return;
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    Redraw(now);
  }
  // The copy of a mailbox's pass ended: it is no longer active; a next pass counts from 0.
  void PassEnded(const std::string& mailbox) {
    std::lock_guard<std::mutex> lock(mu_);
    active_.erase(mailbox);
  }
  // This run's move of a mailbox (up to its cleanup) ended; its finished line follows its sweep.
  void Moved() {
    std::lock_guard<std::mutex> lock(mu_);
    ++moved_;
  }
  void MailboxDone(const std::string& mailbox, const std::string& outcome, uint64_t messages,
                   uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    active_.erase(mailbox);
    ++done_;
    if (tty_) console_.err << "\r\033[K";
    console_.err << fmt::format("[{}/{}] {}: {} ({} messages, {:.1f} MB)\n", done_, total_, mailbox,
                                outcome, messages, static_cast<double>(bytes) / 1e6);
    samples_.push_back({elapsed(), messages_});
    if (tty_) Redraw(Clock::now());
  }
  void Finished() {
    std::lock_guard<std::mutex> lock(mu_);
    if (tty_) console_.err << "\r\033[K" << std::flush;
  }
  const std::vector<ThroughputSample>& samples() const { return samples_; }
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  void Redraw(Clock::time_point now) {
    double span =
        std::chrono::duration<double>(now - (last_ == Clock::time_point{} ? start_ : last_))
            .count();
    msg_rate_.Add(static_cast<double>(messages_ - messages_at_last_), span);
    byte_rate_.Add(static_cast<double>(bytes_ - bytes_at_last_), span);
    messages_at_last_ = messages_;
    bytes_at_last_ = bytes_;
    last_ = now;
    ProgressFigures f;
    for (const auto& [name, p] : active_) f.active.push_back(name);
    f.done = std::max(moved_, done_);
    f.total = total_;
    f.messages = messages_;
    f.bytes = bytes_;
    f.message_rate = msg_rate_.value();
    f.byte_rate = byte_rate_.value();
    f.eta_seconds = EstimateSecondsLeft(bytes_, known_bytes_, known_, total_, f.byte_rate);
    console_.err << "\r\033[K" << FormatProgressLine(f, TerminalWidth()) << std::flush;
  }
  static size_t TerminalWidth() {
    struct winsize ws {};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1) return ws.ws_col - 1;
    return 79;
  }

  Console console_;
  size_t total_, done_ = 0, moved_ = 0;
  uint64_t known_bytes_;
  size_t known_;
  bool tty_;
  uint64_t messages_ = 0, bytes_ = 0, messages_at_last_ = 0, bytes_at_last_ = 0;
  std::map<std::string, CopyProgress> active_;
  SmoothedRate msg_rate_, byte_rate_;
  Clock::time_point start_ = Clock::now(), last_{};
  std::vector<ThroughputSample> samples_{{0, 0}};
  std::mutex mu_;
};

struct Context {
  const Config& config;
  Console console;
  Organizations orgs;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<EventLog> log;
  MailStores stores;
  // Directory writes are serialized: the ldif: backend has one writer, and an LDAP DC is best
  // fed one mailbox's ordered changes at a time. Copies run in parallel.
  std::mutex directory_mu;
};

struct Work {
  JournalMailbox jm;
  MailboxPlan plan;
  Snapshot snapshot;
  ReportRow row;
  // Open while the mailbox moves, so its steps share two connections instead of making two each.
  std::unique_ptr<MailStore> source_store, target_store;
  Clock::time_point cleaned_at{};  // when this run cleaned the source up
  bool already_done = false;       // routing-verified when this run began
  bool announced = false;          // its finished line is printed
};

Result<MailStore*> SourceStore(const Context& ctx, Work& w) {
  if (!w.source_store) {
    auto store = ctx.stores.OpenSource(w.snapshot.source, w.snapshot.store);
    if (!store.ok()) return store.status();
    w.source_store = std::move(*store);
  }
  return w.source_store.get();
}

Result<MailStore*> TargetStore(const Context& ctx, Work& w) {
  if (!w.target_store) {
    auto store = ctx.stores.OpenTarget(w.plan);
    if (!store.ok()) return store.status();
    w.target_store = std::move(*store);
  }
  return w.target_store.get();
}

Result<CopyStats> Copy(Context& ctx, Work& w, Progress& progress) {
  auto src = SourceStore(ctx, w);
  if (!src.ok()) return src.status();
  auto dst = TargetStore(ctx, w);
  if (!dst.ok()) return dst.status();
  auto map = ctx.journal->MessagesOf(w.jm.id);
  CopyOptions options;
  options.bad_item_limit = ctx.config.bad_item_limit;
  auto refused = ctx.journal->RefusedMessages(w.jm.id);
  if (!refused.ok()) return refused.status();
  options.refused_before = refused->size();
  options.progress = [&](const CopyProgress& p) { progress.Copied(w.plan.alias, p); };
  options.stop = &g_stop;
  auto stats = CopyMailbox(**src, **dst, *map, options, ctx.stores.target_names());
  progress.PassEnded(w.plan.alias);
  if (!stats.ok()) return stats;
  for (const auto& f : stats->folders) {
    if (f.messages || f.refused) ctx.log->FolderCopied(w.jm.identity, f);
  }
  w.row.messages += stats->messages;
  w.row.bytes += stats->bytes;
  w.row.repaired.insert(w.row.repaired.end(), stats->repaired.begin(), stats->repaired.end());
  return stats;
}

Status ApplyAll(Context& ctx, Work& w, const std::vector<DirectoryOp>& ops) {
  // Workers write at the same time where both directories take concurrent calls (LDAP).
  std::unique_lock<std::mutex> lock(ctx.directory_mu, std::defer_lock);
  if (!ctx.orgs.source->IsThreadSafe() || !ctx.orgs.target->IsThreadSafe()) lock.lock();
  // Consecutive operations on one side form one group (one transaction where the server has
  // them); the order between groups is the plan's.
  for (size_t i = 0; i < ops.size();) {
    size_t j = i;
    while (j < ops.size() && ops[j].side == ops[i].side) ++j;
    Directory& dir = ops[i].side == Side::kTarget ? *ctx.orgs.target : *ctx.orgs.source;
    std::vector<DirectoryOp> group(ops.begin() + i, ops.begin() + j);
    CM_RETURN_IF_ERROR(ApplyAllIdempotent(dir, group, ctx.log.get(), w.jm.identity));
    i = j;
  }
  return Status::Ok();
}

// Takes the mailbox for this run. One held by another live run is that run's work: skipped,
// not failed (SPEC §5), so neither the exit code nor the report counts it as a failure.
bool ClaimOrSkip(Context& ctx, Work& w) {
  Status s = ctx.journal->Claim(w.jm.id);
  if (s.ok()) return true;
  if (s.code() != Status::Code::kUnavailable) {
    w.row.failure = s.message();
    return false;
  }
  auto now = ctx.journal->Find(w.jm.identity);
  w.row.skipped =
      now.ok() && *now && !(*now)->holder.empty() ? "held by " + (*now)->holder : s.message();
  return false;
}

// One step of the state machine: intent, work, done. Returns false when the mailbox stops.
bool Step(Context& ctx, Work& w, std::string_view name, MailboxState next,
          const std::function<Status()>& work) {
  if (g_stop) {  // a safe point: the mailbox stays in its state, the next run goes on from it
    w.row.interrupted = true;
    return false;
  }
  Status s = ctx.journal->Begin(w.jm.id, name);
  Journal::PauseHook();
  if (s.ok()) s = work();
  if (s.ok()) s = ctx.journal->Finish(w.jm.id, next);
  Journal::PauseHook();
  if (!s.ok() && g_stop) {
    // Stopped, not failed: the step's intent is journaled and the next run does it again
    // (a copy continues from the messages the journal records).
    w.row.interrupted = true;
    return false;
  }
  if (!s.ok()) {
    ctx.journal->Fail(w.jm.id, name, s.message());
    ctx.log->StateChange(w.jm.identity, "failed", fmt::format("{}: {}", name, s.message()));
    w.row.failure = fmt::format("{}: {}", name, s.message());
    return false;
  }
  w.jm.state = next;
  ctx.log->StateChange(w.jm.identity, ToString(next));
  return true;
}

// Moves one mailbox from whatever state the journal has up to source-cleaned.
void MoveMailbox(Context& ctx, Work& w, Progress& progress) {
  auto started = Clock::now();
  if (!ClaimOrSkip(ctx, w)) return;
  bool ok = true;
  if (w.jm.state == MailboxState::kPending) {
    ok = Step(ctx, w, "snapshot", MailboxState::kSnapshotted, [&]() -> Status {
      auto location = ctx.stores.SourceLocation(w.snapshot.source);
      if (!location.ok()) return location.status();
      w.snapshot.store = *location;
      auto store = SourceStore(ctx, w);
      if (!store.ok()) return store.status();
      auto folders = (*store)->ListFolders();
      if (!folders.ok()) return folders.status();
      w.snapshot.folders.clear();
      for (const auto& f : *folders) {
        if (!f.selectable) continue;
        if (f.messages >= 0 && f.bytes >= 0) {  // counted by the folder listing (IMAP STATUS)
          w.snapshot.folders.push_back(
              {f.Name(), static_cast<uint64_t>(f.messages), static_cast<uint64_t>(f.bytes)});
          continue;
        }
        auto messages = (*store)->ListMessages(f, Detail::kNames);
        if (!messages.ok()) return messages.status();
        FolderSnapshot fs{f.Name(), messages->size(), 0};
        for (const auto& m : *messages) fs.bytes += m.size;
        w.snapshot.folders.push_back(fs);
      }
      uint64_t size = 0;
      for (const auto& f : w.snapshot.folders) size += f.bytes;
      progress.Sized(size);
      return ctx.journal->SaveSnapshot(w.jm.id, SnapshotToJson(w.snapshot),
                                       PlanToJsonValue(w.plan).dump());
    });
  }
  if (ok && w.jm.state == MailboxState::kSnapshotted) {
    ok = Step(ctx, w, "provision", MailboxState::kTargetProvisioned,
              [&] { return ApplyAll(ctx, w, w.plan.provision); });
  }
  if (ok && w.jm.state == MailboxState::kTargetProvisioned) {
    ok = Step(ctx, w, "copy", MailboxState::kContentCopied,
              [&] { return Copy(ctx, w, progress).status(); });
  }
  if (ok && w.jm.state == MailboxState::kContentCopied) {
    ok = Step(ctx, w, "verify", MailboxState::kContentVerified, [&]() -> Status {
      auto src = SourceStore(ctx, w);
      if (!src.ok()) return src.status();
      auto dst = TargetStore(ctx, w);
      if (!dst.ok()) return dst.status();
      auto map = ctx.journal->MessagesOf(w.jm.id);
      auto mode = ParseVerifyMode(ctx.config.verify);
      if (!mode.ok()) return mode.status();
      auto report = VerifyMailbox(**src, **dst, *map, *mode, ctx.stores.target_names());
      if (!report.ok()) return report.status();
      if (!report->ok()) {
        std::vector<std::string> first(
            report->problems.begin(), report->problems.begin() + static_cast<long>(std::min<size_t>(
                                                                     5, report->problems.size())));
        std::string repair;
        if (!report->bad.empty()) {
          // Bad copies are removed (ours only) and marked, and the mailbox goes back to before
          // the copy, so the next run copies them again, verifies and only then cleans up.
          auto marked = MarkForRepair(**dst, *map, report->bad);
          if (!marked.ok()) return marked.status().Annotate("preparing the repair");
          CM_RETURN_IF_ERROR(ctx.journal->Finish(w.jm.id, MailboxState::kTargetProvisioned));
          repair = fmt::format("; the next run copies {} of them again", *marked);
        }
        return Status::Constraint(fmt::format("{} problems in {} messages: {}{}",
                                              report->problems.size(), report->messages,
                                              Join(first, "; "), repair));
      }
      return Status::Ok();
    });
  }
  if (ok && w.jm.state == MailboxState::kContentVerified) {
    // Final delta pass (mail that arrived since the bulk copy), then the source cleanup.
    ok = Step(ctx, w, "cleanup", MailboxState::kSourceCleaned, [&]() -> Status {
      auto delta = Copy(ctx, w, progress);
      if (!delta.ok()) return delta.status();
      Journal::PauseHook();
      Status cleaned = ApplyAll(ctx, w, w.plan.cleanup_ops);
      w.cleaned_at = Clock::now();
      return cleaned;
    });
  }
  w.source_store.reset();
  w.target_store.reset();
  w.row.seconds += std::chrono::duration<double>(Clock::now() - started).count();
  ctx.journal->Release(w.jm.id);
}

std::vector<std::string> Domains(const std::vector<std::string>& configured,
                                 const std::vector<std::string>& derived) {
  return configured.empty() ? derived : configured;
}

}  // namespace

// Where every address of a snapshot lands now, and whether that is what the state predicts.
struct AddressCheck {
  std::string address;
  Route route;
  std::string expected;  // "new mailbox", "old mailbox", "NDR"
  bool as_expected = false;
  bool warning = false;  // as predicted, but mail does not reach the new mailbox (None)
};

namespace {

std::vector<AddressCheck> CheckContinuity(const RoutingModel& model, const JournalMailbox& jm,
                                          const Snapshot& snap, const MailboxPlan& plan,
                                          const AttributeProfile& profile) {
  bool cleaned =
      jm.state == MailboxState::kSourceCleaned || jm.state == MailboxState::kRoutingVerified;
  std::vector<AddressCheck> out;
  for (const auto& address : OldAddresses(snap.source, profile)) {
    AddressCheck c;
    c.address = address;
    c.route = model.Resolve(address, "source");
    const RouteHop* last = c.route.final_hop();
    auto delivered_to = [&](const std::string& org, const std::string& dn) {
      return c.route.delivered() && last && last->org == org && DnEquals(last->dn, dn);
    };
    if (!cleaned || plan.cleanup == CleanupOption::kNone) {
      c.expected = "old mailbox";
      c.as_expected = delivered_to("source", snap.source.dn());
      c.warning = cleaned;
    } else if (plan.cleanup == CleanupOption::kCreateSourceContact ||
               plan.cleanup == CleanupOption::kMailEnableSourceAccount) {
      c.expected = "new mailbox";
      c.as_expected = delivered_to("target", plan.target_dn);
    } else {
      c.expected = "NDR";
      c.as_expected = !c.route.delivered();
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<RoutingModel> BuildModel(Organizations& orgs, const Config& config,
                                const std::vector<Snapshot>& snapshots,
                                const std::vector<MailboxPlan>& plans) {
  auto everything = [](Directory& d, const std::string& base) {
    return d.Search(base, Scope::kSubtree, Filter::Present("objectClass"));
  };
  auto src = everything(*orgs.source, orgs.source_base);
  if (!src.ok()) return src.status();
  auto tgt = everything(*orgs.target, orgs.target_base);
  if (!tgt.ok()) return tgt.status();
  // Accepted domains default to those the moved mailboxes use on each side.
  std::set<std::string> source_domains;
  for (const auto& s : snapshots) {
    for (const auto& a : OldAddresses(s.source, config.profile)) {
      if (!a.starts_with("X500:")) source_domains.insert(DomainOf(a));
    }
  }
  return RoutingModel(
      {{"source", Domains(config.source.domains, {source_domains.begin(), source_domains.end()}),
        std::move(*src), config.profile},
       {"target", TargetDomains(config, plans), std::move(*tgt), config.profile}});
}

using Loaded = JournaledMove;

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// The journal of earlier runs with every snapshotted mailbox, for status / verify / rollback.
// Prints why not and returns nullopt when there is none to read.
struct OpenedJournal {
  std::unique_ptr<Journal> journal;
  std::vector<Loaded> mailboxes;
};
std::optional<OpenedJournal> OpenExistingJournal(const Config& config, Console console,
                                                 std::string_view why, bool read_only,
                                                 bool json = false) {
  if (!FileExists(config.journal)) {
    PrintError(fmt::format("no journal at {}{}", config.journal, why), json, console);
    return std::nullopt;
  }
  auto journal = read_only ? Journal::OpenReadOnly(config.journal) : Journal::Open(config.journal);
  if (!journal.ok()) {
    PrintError(journal.status().message(), json, console);
    return std::nullopt;
  }
  auto loaded = LoadJournaledMoves(**journal);
  if (!loaded.ok()) {
    PrintError(loaded.status().message(), json, console);
    return std::nullopt;
  }
  return OpenedJournal{std::move(*journal), std::move(*loaded)};
}

// The journaled mailboxes the typed identities name, as indices into `mailboxes` (every one when
// none is typed). Prints each identity that names none or several and returns nullopt.
std::optional<std::vector<size_t>> ChooseMailboxes(const std::vector<std::string>& typed,
                                                   const std::vector<JournaledIdentity>& mailboxes,
                                                   const Config& config, bool json,
                                                   Console console) {
  std::vector<size_t> all(mailboxes.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  if (typed.empty()) return all;
  auto chosen = SelectJournaled(typed, mailboxes, config.profile);
  if (chosen.ok()) return std::move(*chosen);
  PrintError(chosen.status().message(), json, console);
  return std::nullopt;
}

std::vector<JournaledIdentity> IdentitiesOf(const std::vector<Loaded>& loaded) {
  std::vector<JournaledIdentity> out;
  for (const auto& l : loaded) out.push_back({l.jm.identity, l.jm.source_dn, &l.snapshot.source});
  return out;
}

// Every mailbox of a journal as an identity can name it: by its snapshot where it has one, else
// (not snapshotted yet) by its users-file value, DN or canonical name.
struct JournalIdentities {
  std::vector<Snapshot> snapshots;  // what `identities` points into
  std::vector<JournaledIdentity> identities;
};
JournalIdentities IdentitiesOf(const std::vector<JournalMailbox>& all) {
  JournalIdentities out;
  out.snapshots.resize(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    const JournalMailbox& m = all[i];
    auto snap =
        m.snapshot.empty() ? Result<Snapshot>(Status::NotFound("")) : SnapshotFromJson(m.snapshot);
    if (snap.ok()) out.snapshots[i] = std::move(*snap);
    out.identities.push_back(
        {m.identity, m.source_dn, snap.ok() ? &out.snapshots[i].source : nullptr});
  }
  return out;
}

// Per mailbox, what this run did, for `run --json`.
nlohmann::json MailboxResults(const std::vector<ReportRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    out.push_back({{"identity", r.identity},
                   {"state", r.state},
                   {"target", r.target_primary_smtp},
                   {"failure", r.failure},
                   {"skipped", r.skipped},
                   {"messages", r.messages},
                   {"bytes", r.bytes},
                   {"seconds", r.seconds}});
  }
  return out;
}

// A journal named in a folder that does not exist yet gets the folder, private (0700) as the
// journal is: it will hold every directory value.
Status MakeJournalFolder(const std::string& journal) {
  std::filesystem::path folder = std::filesystem::path(journal).parent_path();
  std::error_code ec;
  if (folder.empty() || std::filesystem::is_directory(folder, ec)) return Status::Ok();
  if (!std::filesystem::create_directories(folder, ec) && ec)
    return Status::IOError(
        fmt::format("cannot create {}, the folder of the journal {}: {}; create it or set "
                    "journal (--journal) to a path in an existing folder",
                    folder.string(), journal, ec.message()));
  std::filesystem::permissions(folder, std::filesystem::perms::owner_all, ec);
  return Status::Ok();
}

// The journal's run lock (journal/run_lock.h), taken by `run` and `rollback` before they read
// anything, so a run that waited plans from what the one before it left. On refusal, prints
// the holder and sets `exit_code`: kExitBusy when another run holds it (nothing was done).
std::optional<RunLock> LockJournal(const Config& config, const RunOptions& options, Console console,
                                   int& exit_code) {
  auto lock = RunLock::Acquire(config.journal, options.wait, [&](const std::string& holder) {
    console.err << fmt::format("crossmove: waiting for {} to finish with the journal {}\n", holder,
                               config.journal);
  });
  if (lock.ok()) return std::move(*lock);
  bool busy = lock.status().code() == Status::Code::kUnavailable;
  console.err << "crossmove: " << lock.status().message()
              << (busy ? "; nothing was done (--wait waits for it)" : "") << "\n";
  exit_code = busy ? kExitBusy : kExitUsage;
  return std::nullopt;
}

}  // namespace

int RunMigration(const Config& config, const RunOptions& options, Console console) {
  if (Status s = MakeJournalFolder(config.journal); !s.ok()) {
    PrintError(s.message(), options.json, console);
    return kExitUsage;
  }
  int refused = kExitUsage;
  std::optional<RunLock> run_lock = LockJournal(config, options, console, refused);
  if (!run_lock) return refused;
  Problems problems;
  Preflight pre;
  std::optional<Status> fatal;
  // The validation `plan` makes (app/preflight.h); journaled mailboxes continue from their state.
  if (!PrepareRun(config, /*for_run=*/true, console.err, pre, problems, fatal)) {
    if (fatal) {
      if (fatal->code() == Status::Code::kUnavailable)
        return Unreachable(*fatal, console, options.json);
      PrintError(fatal->message(), options.json, console);
      return kExitUsage;
    }
    ReportProblems(problems, options.json, console);
    return pre.unreachable ? kExitUnreachable : kExitUsage;
  }
  const UsersFile& users = pre.users;
  const Batch& batch = pre.batch;
  std::map<std::string, const JournaledMove*, ILess> by_identity;
  for (const auto& l : pre.journaled) by_identity[l.jm.identity] = &l;

  Context ctx{config, console, std::move(pre.orgs), nullptr, nullptr, std::move(pre.stores), {}};
  auto journal = Journal::Open(config.journal);
  if (!journal.ok()) {
    console.err << "crossmove: " << journal.status().message() << "\n";
    return kExitUsage;
  }
  ctx.journal = std::move(*journal);
  (void)run_lock->SetRun(ctx.journal->run_id());  // best effort: only names the run to others
  auto log = EventLog::Open(config.event_log, ctx.journal->run_id());
  if (!log.ok()) {
    console.err << "crossmove: " << log.status().message() << "\n";
    return kExitUsage;
  }
  ctx.log = std::move(*log);

  // The work list, in users-file order.
  std::vector<Work> work;
  std::map<std::string, size_t, ILess> planned;
  for (size_t i = 0; i < batch.mailboxes.size(); ++i) {
    planned[JournalIdentity(users.identity_column, batch.mailboxes[i].row.identity)] = i;
  }
  for (const auto& row : users.rows) {
    std::string key = JournalIdentity(users.identity_column, row.identity);
    Work w;
    if (auto it = by_identity.find(key); it != by_identity.end()) {
      auto fresh_state = ctx.journal->Find(key);
      w.jm = fresh_state.ok() && *fresh_state ? **fresh_state : it->second->jm;
      w.snapshot = it->second->snapshot;
      w.plan = it->second->plan;
    } else {
      const PlannedMailbox& m = batch.mailboxes[planned.at(key)];
      auto id = ctx.journal->Register(key, row.line, m.source.dn());
      if (!id.ok()) {
        console.err << "crossmove: " << id.status().message() << "\n";
        return kExitUsage;
      }
      auto jm = ctx.journal->Find(key);
      if (!jm.ok() || !*jm) return kExitUsage;
      w.jm = **jm;
      w.plan = m.plan;
      w.snapshot.source = m.source;
      for (const auto& match : m.target_matches) {
        for (const auto& op : m.plan.provision) {
          if (op.kind == DirectoryOp::Kind::kDelete && DnEquals(op.dn, match.dn()))
            w.snapshot.replaced_target_objects.push_back(match);
        }
      }
    }
    w.row = {key,
             w.plan.source_dn,
             w.plan.target_dn,
             w.plan.target_primary_smtp,
             std::string(ToString(w.plan.cleanup)),
             "",
             "",
             0,
             0,
             0,
             {},
             ""};
    work.push_back(std::move(w));
  }

  // Loud before anything moves: the old addresses a Delete* cleanup leaves to bounce.
  std::vector<MailboxPlan> work_plans;
  for (const auto& w : work) work_plans.push_back(w.plan);
  std::vector<std::string> target_domains = TargetDomains(config, work_plans);
  BounceCount bounces;
  for (const auto& w : work) {
    if (w.jm.state < MailboxState::kSourceCleaned)
      bounces.Add(
          AddressesThatWillBounce(w.snapshot.source, w.plan, target_domains, config.profile),
          w.plan.cleanup);
  }
  if (std::string warning = BounceWarning(bounces); !warning.empty())
    console.err << "crossmove: " << warning << "\n";

  StopSignals stop_signals;
  uint64_t known_bytes = 0;
  size_t known = 0;
  for (auto& w : work) {
    w.already_done = w.jm.state == MailboxState::kRoutingVerified;
    if (w.snapshot.folders.empty() && w.jm.state == MailboxState::kPending) continue;
    for (const auto& f : w.snapshot.folders) known_bytes += f.bytes;
    ++known;
  }
  Progress progress(console, work.size(), known_bytes, known);
  // One line per mailbox when this run is done with it, with the state it ends in.
  auto Announce = [&](Work& w) {
    if (w.announced) return;
    w.announced = true;
    std::string outcome =
        !w.row.failure.empty()   ? "FAILED " + EscapeControlCharacters(w.row.failure)
        : !w.row.skipped.empty() ? "SKIPPED: " + w.row.skipped
        : w.row.interrupted
            ? fmt::format("stopped after {} (the next run resumes there)", ToString(w.jm.state))
        : w.already_done && w.row.messages == 0
            ? fmt::format("already done ({})", ToString(w.jm.state))
            : std::string(ToString(w.jm.state));
    progress.MailboxDone(w.plan.alias, outcome, w.row.messages, w.row.bytes);
  };
  // `parallel` mailboxes at once (-MaxThreads); each worker takes the next mailbox in file order.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < work.size(); i = next++) {
      Work& w = work[i];
      if (w.jm.state == MailboxState::kRolledBack) {
        // Skipped, not failed, as `plan` shows it: a rollback is the operator's decision.
        w.row.skipped =
            "rolled back: `crossmove forget IDENTITY`, then `run --allow-merge`, moves it again";
      } else if (g_stop && w.jm.state < MailboxState::kSourceCleaned) {
        w.row.interrupted = true;  // not started: the next run takes it
      } else if (w.jm.state < MailboxState::kSourceCleaned) {
        MoveMailbox(ctx, w, progress);
      }
      progress.Moved();
      // A mailbox that stops here is told now; the others once their routing is proven.
      if (!w.row.failure.empty() || !w.row.skipped.empty() || w.row.interrupted) Announce(w);
    }
  };
  size_t threads = std::min<size_t>(static_cast<size_t>(std::max(1, config.parallel)), work.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();

  // Sweep (mail that reached the source during the cleanup) and the proof of continuity.
  std::vector<Snapshot> snapshots;
  std::vector<MailboxPlan> plans;
  for (const auto& w : work) {
    snapshots.push_back(w.snapshot);
    plans.push_back(w.plan);
  }
  auto model = BuildModel(ctx.orgs, config, snapshots, plans);
  // A mailbox proven by an earlier run is swept again: mail the old organization delivered
  // after that run's sweep (verify reports it as left behind) is not left there.
  auto prove = [&](Work& w) {
    bool cleaned =
        w.jm.state == MailboxState::kSourceCleaned || w.jm.state == MailboxState::kRoutingVerified;
    if (!cleaned || !w.row.failure.empty() || !w.row.skipped.empty()) return;
    if (g_stop) {
      w.row.interrupted = w.jm.state != MailboxState::kRoutingVerified;
      return;
    }
    // Mail an MTA resolved to the old mailbox just before its cleanup may still be on its way.
    auto due = w.cleaned_at + std::chrono::seconds(config.sweep_delay_seconds);
    if (w.cleaned_at != Clock::time_point{} && Clock::now() < due)
      std::this_thread::sleep_until(due);
    if (!ClaimOrSkip(ctx, w)) return;
    Step(ctx, w, "routing", MailboxState::kRoutingVerified, [&]() -> Status {
      auto sweep = Copy(ctx, w, progress);
      if (!sweep.ok()) return sweep.status();
      if (!model.ok()) return model.status();
      std::vector<std::string> wrong;
      for (const auto& c : CheckContinuity(*model, w.jm, w.snapshot, w.plan, config.profile)) {
        if (!c.as_expected)
          wrong.push_back(
              fmt::format("{} ({}: {})", c.address, ToString(c.route.outcome), c.route.detail));
      }
      if (!wrong.empty())
        return Status::Constraint("addresses do not route as predicted: " + Join(wrong, "; "));
      return Status::Ok();
    });
    w.source_store.reset();
    w.target_store.reset();
    ctx.journal->Release(w.jm.id);
  };
  // The sweeps run `parallel` at once too; the model is read-only.
  next = 0;
  auto prover = [&] {
    for (size_t i = next++; i < work.size(); i = next++) {
      prove(work[i]);
      Announce(work[i]);
    }
  };
  pool.clear();
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(prover);
  prover();
  for (auto& t : pool) t.join();
  progress.Finished();

  RunReport report{
      fmt::format("crossmove migration report: {} (run {})", users.path, ctx.journal->run_id()),
      fmt::format("source {} -> target {}", ctx.orgs.source_base, ctx.orgs.target_base),
      config.cleanup,
      "",
      UtcNow(),
      {},
      progress.samples(),
      progress.elapsed()};
  if (auto started = ctx.journal->FirstRunStarted(); started.ok()) report.started = *started;
  size_t failed = 0, moved = 0, skipped = 0;
  uint64_t messages = 0, bytes = 0;  // this run's
  nlohmann::json skipped_rows = nlohmann::json::array();
  std::set<std::string> holders;
  // What every run together copied: the report is the migration's, not this invocation's.
  auto totals = ctx.journal->CopiedTotals();
  auto spans = ctx.journal->StepSpans();
  auto cumulative = [&](ReportRow row, int64_t id) {
    if (spans.ok()) {
      if (auto s = spans->find(id); s != spans->end()) {
        row.first_step = s->second.first;
        row.last_step = s->second.last;
      }
    }
    if (!totals.ok()) return row;
    auto t = totals->find(id);
    row.messages = t == totals->end() ? 0 : t->second.messages;
    row.bytes = t == totals->end() ? 0 : t->second.bytes;
    return row;
  };
  std::set<int64_t> reported;
  for (auto& w : work) {
    w.row.state = std::string(ToString(w.jm.state));
    // Every refusal the journal holds for the mailbox, earlier runs' too.
    if (auto refused = ctx.journal->RefusedMessages(w.jm.id); refused.ok())
      w.row.refused = std::move(*refused);
    failed += !w.row.failure.empty();
    if (!w.row.skipped.empty()) {
      ++skipped;
      skipped_rows.push_back({{"identity", w.jm.identity}, {"reason", w.row.skipped}});
      holders.insert(w.row.skipped);
    }
    moved += w.jm.state == MailboxState::kRoutingVerified;
    messages += w.row.messages;
    bytes += w.row.bytes;
    report.rows.push_back(cumulative(w.row, w.jm.id));
    reported.insert(w.jm.id);
  }
  // Mailboxes of earlier runs this users file does not name keep their line in the report.
  if (auto everyone = ctx.journal->All(); everyone.ok()) {
    std::map<int64_t, const JournaledMove*> plans;
    for (const auto& l : pre.journaled) plans[l.jm.id] = &l;
    for (const auto& jm : *everyone) {
      if (reported.count(jm.id)) continue;
      ReportRow row{jm.identity,
                    jm.source_dn,
                    "",
                    "",
                    "",
                    std::string(ToString(jm.state)),
                    jm.failed() ? fmt::format("{}: {}", jm.failed_step, jm.reason) : "",
                    0,
                    0,
                    0,
                    {},
                    ""};
      if (auto p = plans.find(jm.id); p != plans.end()) {
        row.target_dn = p->second->plan.target_dn;
        row.target_primary_smtp = p->second->plan.target_primary_smtp;
        row.cleanup = std::string(ToString(p->second->plan.cleanup));
      }
      if (auto refused = ctx.journal->RefusedMessages(jm.id); refused.ok())
        row.refused = std::move(*refused);
      report.rows.push_back(cumulative(std::move(row), jm.id));
    }
  }
  FailuresFirst(report.rows);
  // Every run keeps its dated report; the configured name is the latest.
  std::string report_base = config.report.empty() ? config.journal + ".report" : config.report;
  std::string dated = DatedReportBase(report_base);
  for (const std::string& base : {dated, report_base}) {
    if (Status s = WriteReport(base, report); !s.ok())
      console.err << "crossmove: " << s.message() << "\n";
  }
  std::string summary = fmt::format(
      "{} of {} mailboxes moved and verified, {} failed{}; {} messages ({:.1f} MB) copied in "
      "{:.1f} s. Report: {}.html (this run's: {}.html)",
      moved, work.size(), failed,
      skipped ? fmt::format(", {} skipped ({})", skipped,
                            Join(std::vector<std::string>(holders.begin(), holders.end()), "; "))
              : std::string(),
      messages, static_cast<double>(bytes) / 1e6, progress.elapsed(), report_base, dated);
  size_t interrupted = 0;
  for (const auto& w : work) interrupted += w.row.interrupted;
  if (g_stop) {
    summary = fmt::format(
        "Interrupted by {}: stopped at a safe point ({} mailboxes not finished; the journal "
        "records every step and message done). {}\nTo resume, run the same command again: "
        "`crossmove ... run` continues each mailbox from its journaled step.",
        g_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT", interrupted, summary);
  }
  if (options.json) {
    nlohmann::json j = {{"moved", moved},
                        {"interrupted", g_stop.load()},
                        {"unfinished", interrupted},
                        {"failed", failed},
                        {"skipped", skipped},
                        {"skipped_mailboxes", skipped_rows},  // identity and who holds it
                        {"messages", messages},
                        {"bytes", bytes},
                        {"addresses_that_will_bounce", bounces.addresses},
                        {"mailboxes", MailboxResults(report.rows)},
                        {"report", report_base + ".html"},
                        {"run_report", dated + ".html"}};
    console.out << j.dump(2) << "\n";
  } else {
    console.out << summary << "\n";
  }
  if (g_stop) return kExitInterrupted;
  return failed ? kExitSomeFailed : kExitOk;
}

int RunStatus(const Config& config, const RunOptions& options, Console console) {
  if (!FileExists(config.journal)) {
    PrintError(fmt::format("no journal at {} (nothing has run yet)", config.journal), options.json,
               console);
    return kExitUsage;
  }
  auto journal = Journal::OpenReadOnly(config.journal);
  if (!journal.ok()) {
    PrintError(journal.status().message(), options.json, console);
    return kExitUsage;
  }
  auto all = (*journal)->All();
  if (!all.ok()) {
    PrintError(all.status().message(), options.json, console);
    return kExitUsage;
  }
  // Identities are matched against the snapshots too (addresses, aliases); a mailbox not yet
  // snapshotted by its users-file value, DN or canonical name.
  JournalIdentities known = IdentitiesOf(*all);
  auto chosen =
      ChooseMailboxes(options.identities, known.identities, config, options.json, console);
  if (!chosen) return kExitUsage;
  std::map<std::string, size_t> counts;
  size_t failed = 0;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& m : *all) {
    ++counts[std::string(ToString(m.state))];
    failed += m.failed();
  }
  for (size_t i : *chosen) {
    const JournalMailbox& m = (*all)[i];
    rows.push_back({{"identity", m.identity},
                    {"line", m.line},
                    {"source_dn", m.source_dn},
                    {"state", ToString(m.state)},
                    {"failed_step", m.failed_step},
                    {"reason", m.reason},
                    {"updated", m.updated},
                    {"held_by", m.holder}});
  }
  // A run in progress is shown, never waited for: status takes no lock.
  std::string running = RunLock::HolderOf(config.journal);
  if (options.json) {
    console.out << nlohmann::json{{"counts", counts},
                                  {"failed", failed},
                                  {"running",
                                   running.empty() ? nlohmann::json() : nlohmann::json(running)},
                                  {"mailboxes", rows}}
                       .dump(2)
                << "\n";
    return kExitOk;
  }
  console.out << fmt::format("{} mailboxes in {}\n", all->size(), config.journal);
  if (!running.empty()) console.out << "  in progress: " << running << "\n";
  for (const auto& [state, n] : counts) console.out << fmt::format("  {:<20} {}\n", state, n);
  if (failed) console.out << fmt::format("  {:<20} {}\n", "failed", failed);
  for (const auto& r : rows) {
    bool show = !options.identities.empty() || !r["failed_step"].get<std::string>().empty();
    if (!show) continue;
    console.out << fmt::format(
        "{}  {}  {}{}\n", r["identity"].get<std::string>(), r["state"].get<std::string>(),
        r["failed_step"].get<std::string>().empty()
            ? ""
            : fmt::format("FAILED at {}: {}", r["failed_step"].get<std::string>(),
                          r["reason"].get<std::string>()),
        r["held_by"].get<std::string>().empty() ? ""
                                                : "  held by " + r["held_by"].get<std::string>());
  }
  return kExitOk;
}

namespace {

// Messages still in the old mailbox of a move that was cleaned up, which no pass copied: mail
// the old organization delivered after the last sweep. "folder key" each.
Result<std::vector<std::string>> LeftBehind(const MailStores& stores, Journal& journal,
                                            const Loaded& l) {
  std::vector<std::string> out;
  auto store = stores.OpenSource(l.snapshot.source, l.snapshot.store);
  if (!store.ok()) return store.status();
  auto folders = (*store)->ListFolders();
  if (!folders.ok()) return folders.status();
  auto map = journal.MessagesOf(l.jm.id);
  for (const auto& f : *folders) {
    if (!f.selectable || f.messages == 0) continue;
    auto recorded = map->Load(f.Name());
    if (!recorded.ok()) return recorded.status();
    auto messages = (*store)->ListMessages(f, Detail::kNames);
    if (!messages.ok()) return messages.status();
    for (const auto& m : *messages) {
      if (!recorded->count(m.key)) out.push_back(fmt::format("{} {}", f.Name(), m.key));
    }
  }
  return out;
}

}  // namespace

int RunVerify(const Config& config, const RunOptions& options, Console console) {
  Problems problems;
  auto orgs = OpenOrganizations(config, /*read_only=*/true, problems);
  if (!orgs.ok() && orgs.status().code() == Status::Code::kUnavailable)
    return Unreachable(orgs.status(), console, options.json);
  MailStores stores = MailStores::Load(config, problems, console.err);
  if (!problems.empty() || !orgs.ok()) return ReportProblems(problems, options.json, console);
  auto opened =
      OpenExistingJournal(config, console, ": verify checks the mailboxes a run snapshotted",
                          /*read_only=*/true, options.json);
  if (!opened) return kExitUsage;
  auto chosen = ChooseMailboxes(options.identities, IdentitiesOf(opened->mailboxes), config,
                                options.json, console);
  if (!chosen) return kExitUsage;
  const std::vector<Loaded>* loaded = &opened->mailboxes;
  std::vector<Snapshot> snapshots;
  std::vector<MailboxPlan> plans;
  for (const auto& l : *loaded) {
    snapshots.push_back(l.snapshot);
    plans.push_back(l.plan);
  }
  auto model = BuildModel(*orgs, config, snapshots, plans);
  if (!model.ok()) {
    console.err << "crossmove: " << model.status().message() << "\n";
    return kExitUnreachable;
  }
  // The model holds every journaled mailbox (accepted domains default to theirs); only the
  // chosen ones are checked.
  std::vector<Loaded> checked;
  std::vector<std::vector<AddressCheck>> checks;
  for (size_t i : *chosen) {
    const Loaded& l = opened->mailboxes[i];
    checked.push_back(l);
    checks.push_back(CheckContinuity(*model, l.jm, l.snapshot, l.plan, config.profile));
  }
  loaded = &checked;
  // The real MTA's answer for every SMTP address, to set against the model's.
  std::map<std::string, RcptAnswer, ILess> mta;
  if (!options.mta.empty()) {
    std::vector<std::string> asked;
    for (const auto& mailbox : checks) {
      for (const auto& c : mailbox) {
        if (!c.address.starts_with("X500:") && !mta.count(c.address)) {
          mta[c.address] = {};
          asked.push_back(c.address);
        }
      }
    }
    auto answers = ProbeRecipients(options.mta, asked, TlsOptions{}, 30);
    if (!answers.ok()) {
      console.err << "crossmove: --mta: " << answers.status().message() << "\n";
      return answers.status().code() == Status::Code::kUnavailable ? kExitUnreachable : kExitUsage;
    }
    for (auto& a : *answers) mta[a.address] = std::move(a);
  }
  // at_old: addresses that, as their state says they should, still reach the old mailbox (not
  // moved yet, rolled back, or moved with cleanup None: the last are the warnings).
  size_t at_old = 0;
  size_t unexpected = 0, warnings = 0, addresses = 0, disagreements = 0, left_behind = 0,
         unchecked = 0, ndr = 0, ndr_expected = 0;
  std::set<std::string> ndr_options;  // the cleanups whose bounces are expected
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < loaded->size(); ++i) {
    const Loaded& l = (*loaded)[i];
    size_t bad = 0, bad_addresses = 0;
    nlohmann::json rows = nlohmann::json::array();
    std::string text;
    for (const auto& c : checks[i]) {
      ++addresses;
      bad_addresses += !c.as_expected;
      if (!c.route.delivered()) {
        // Expected under a cleanup that leaves no forwarder, but counted and shown all the same.
        ++ndr;
        ndr_expected += c.as_expected;
        if (c.as_expected) ndr_options.insert(std::string(ToString(l.plan.cleanup)));
      }
      warnings += c.warning;
      at_old += c.as_expected && c.expected == "old mailbox";
      const RouteHop* last = c.route.final_hop();
      std::string where = c.route.delivered() && last
                              ? fmt::format("{} {}", last->org, last->dn)
                              : fmt::format("{} {}", NdrCode(c.route.outcome), c.route.detail);
      nlohmann::json row = {{"address", c.address},
                            {"outcome", ToString(c.route.outcome)},
                            {"lands", where},
                            {"expected", c.expected},
                            {"as_expected", c.as_expected}};
      std::string mta_note;
      if (auto it = mta.find(c.address); it != mta.end()) {
        // The model delivers or forwards: the MTA must take the address; an NDR: refuse it.
        bool agrees = c.route.delivered() ? it->second.accepted() : it->second.rejected();
        disagreements += !agrees;
        bad_addresses += !agrees && c.as_expected;
        row["mta"] = {{"code", it->second.code}, {"text", it->second.text}, {"agrees", agrees}};
        mta_note = fmt::format("  [MTA: {} {}{}]", it->second.code, it->second.text,
                               agrees ? "" : " DISAGREES");
      }
      rows.push_back(std::move(row));
      text += fmt::format("    {:<4} {:<60} -> {}{}\n",
                          c.as_expected ? (c.warning ? "warn" : "ok") : "FAIL", c.address, where,
                          mta_note);
    }
    bad += bad_addresses;
    // After a cleanup that forwards or removes the old mailbox, nothing may be left in it.
    nlohmann::json behind = nlohmann::json::array();
    bool cleaned =
        l.jm.state == MailboxState::kSourceCleaned || l.jm.state == MailboxState::kRoutingVerified;
    if (cleaned && l.plan.cleanup != CleanupOption::kNone) {
      auto found = LeftBehind(stores, *opened->journal, l);
      if (!found.ok()) {
        // Once its account or mailbox attributes are gone, a server may no longer open it.
        ++unchecked;
        text += fmt::format("    warn cannot look for mail left in the old mailbox: {}\n",
                            found.status().message());
      } else {
        for (const auto& m : *found) behind.push_back(m);
      }
      if (!behind.empty()) {
        ++bad;
        left_behind += behind.size();
        text += fmt::format("    {} message(s) left behind in the old mailbox: {}\n", behind.size(),
                            behind.dump());
      }
    }
    unexpected += bad;
    out.push_back({{"identity", l.jm.identity},
                   {"state", ToString(l.jm.state)},
                   {"cleanup", ToString(l.plan.cleanup)},
                   {"addresses", rows},
                   {"left_behind", behind}});
    if (!options.json) {
      const auto& first = checks[i];
      console.out << fmt::format(
          "{} [{}, {}]: {} of {} addresses as expected ({})\n", l.jm.identity, ToString(l.jm.state),
          ToString(l.plan.cleanup), first.size() - bad_addresses, first.size(),
          bad                                  ? "UNEXPECTED"
          : first.empty() || !first[0].warning ? first.empty() ? "-" : first[0].expected
                                               : "still the old mailbox");
      if (bad || !options.identities.empty()) console.out << text;
    }
  }
  if (options.json) {
    nlohmann::json summary = {{"mailboxes", out},
                              {"unexpected", unexpected},
                              {"warnings", warnings},
                              {"at_old_mailbox", at_old},
                              {"left_behind", left_behind},
                              {"ndr", ndr},
                              {"ndr_expected", ndr_expected},
                              {"old_mailboxes_unchecked", unchecked}};
    if (!options.mta.empty()) summary["mta_disagreements"] = disagreements;
    console.out << summary.dump(2) << "\n";
  } else {
    std::string bounces =
        !ndr ? "0 bounce"
        : ndr == ndr_expected
            ? fmt::format(
                  "{} bounce (NDR; expected: {} leaves no forwarding object)", ndr,
                  Join(std::vector<std::string>(ndr_options.begin(), ndr_options.end()), " / "))
            : fmt::format("{} bounce (NDR; {} unexpected)", ndr, ndr - ndr_expected);
    console.out << fmt::format(
        "verify: {} mailboxes, {} addresses, {} unexpected, {}, {} still at the old "
        "mailbox{}{}{}{}\n",
        loaded->size(), addresses, unexpected, bounces, at_old,
        warnings ? fmt::format(" ({} of them moved with cleanup None: their mail does not reach "
                               "the new mailbox)",
                               warnings)
                 : "",
        options.mta.empty() ? "" : fmt::format("; the MTA disagrees on {}", disagreements),
        left_behind ? fmt::format("; {} messages left behind", left_behind) : "",
        unchecked
            ? fmt::format("; {} old mailboxes could not be checked for mail left behind", unchecked)
            : "");
  }
  return unexpected ? kExitSomeFailed : kExitOk;
}

int RunRollback(const Config& config, const RunOptions& options, Console console) {
  if (!options.all && options.identities.empty()) {
    console.err << "crossmove: rollback needs --all or the identities to roll back\n";
    return kExitUsage;
  }
  if (!FileExists(config.journal)) {
    console.err << "crossmove: no journal at " << config.journal << " (nothing has run yet)\n";
    return kExitUsage;
  }
  // A dry run reads only: no lock, no event log, no directory write.
  int refused = kExitUsage;
  std::optional<RunLock> run_lock;
  if (!options.dry_run) {
    run_lock = LockJournal(config, options, console, refused);
    if (!run_lock) return refused;
  }
  Problems problems;
  auto orgs = OpenOrganizations(config, /*read_only=*/options.dry_run, problems);
  if (!orgs.ok() && orgs.status().code() == Status::Code::kUnavailable)
    return Unreachable(orgs.status(), console);
  if (!problems.empty() || !orgs.ok()) {
    PrintProblems(problems, console);
    return kExitUsage;
  }
  auto opened = OpenExistingJournal(config, console, "", /*read_only=*/options.dry_run);
  if (!opened) return kExitUsage;
  std::unique_ptr<Journal>* journal = &opened->journal;
  auto chosen = ChooseMailboxes(options.all ? std::vector<std::string>{} : options.identities,
                                IdentitiesOf(opened->mailboxes), config, false, console);
  if (!chosen) return kExitUsage;
  std::unique_ptr<EventLog> log;
  if (!options.dry_run) {
    (void)run_lock->SetRun((*journal)->run_id());  // best effort: only names the run to others
    auto opened_log = EventLog::Open(config.event_log, (*journal)->run_id());
    if (!opened_log.ok()) {
      console.err << "crossmove: " << opened_log.status().message() << "\n";
      return kExitUsage;
    }
    log = std::move(*opened_log);
  }
  const AttributeProfile& p = config.profile;
  size_t done = 0, failed = 0;
  for (size_t chosen_index : *chosen) {
    const Loaded& l = opened->mailboxes[chosen_index];
    if (l.jm.state == MailboxState::kRolledBack) {
      if (!options.identities.empty())
        console.out << fmt::format("{}: already rolled back\n", l.jm.identity);
      continue;
    }
    std::vector<DirectoryOp> ops;
    const Entry& snap = l.snapshot.source;
    // Source: remove the forwarding contact, then restore the object as it was.
    for (const auto& op : l.plan.cleanup_ops) {
      if (op.kind == DirectoryOp::Kind::kAdd)
        ops.push_back({Side::kSource,
                       DirectoryOp::Kind::kDelete,
                       op.dn,
                       {},
                       "",
                       "",
                       "remove the forwarding contact"});
    }
    auto current = orgs->source->Read(snap.dn());
    if (!current.ok() && current.status().code() == Status::Code::kNotFound) {
      std::vector<Modification> attrs;
      for (const auto& [name, values] : snap.attributes()) {
        if (!orgs->source->IsServerManaged(name))
          attrs.push_back({Modification::Op::kAdd, name, values});
      }
      ops.push_back({Side::kSource, DirectoryOp::Kind::kAdd, snap.dn(), attrs, "", "",
                     "recreate the source object from its snapshot"});
    } else if (current.ok()) {
      std::vector<Modification> mods;
      for (const auto& [name, values] : current->attributes()) {
        if (!snap.Has(name) && !orgs->source->IsServerManaged(name))
          mods.push_back({Modification::Op::kDelete, name, {}});
      }
      for (const auto& [name, values] : snap.attributes()) {
        if (!orgs->source->IsServerManaged(name))
          mods.push_back({Modification::Op::kReplace, name, values});
      }
      ops.push_back({Side::kSource, DirectoryOp::Kind::kModify, snap.dn(), mods, "", "",
                     "restore every snapshotted value"});
    } else {
      console.err << "crossmove: " << l.jm.identity << ": " << current.status().message() << "\n";
      ++failed;
      continue;
    }
    // Target: the mailbox user becomes a mail user that forwards back to the old mailbox. Its
    // mail is kept.
    if (l.jm.state >= MailboxState::kTargetProvisioned) {
      auto target = orgs->target->Read(l.plan.target_dn);
      if (target.ok()) {
        std::vector<Modification> mods;
        for (const auto& attr : {p.home_mdb, p.home_server}) {
          if (target->Has(attr)) mods.push_back({Modification::Op::kDelete, attr, {}});
        }
        mods.push_back({Modification::Op::kReplace,
                        p.target_address,
                        {"SMTP:" + Recipient(snap, p).primary_smtp()}});
        mods.push_back({Modification::Op::kReplace,
                        p.type_details,
                        {std::to_string(recipient_type::kMailUser)}});
        mods.push_back({Modification::Op::kReplace,
                        p.display_type,
                        {std::to_string(recipient_type::kDisplayRemoteMailUser)}});
        ops.push_back({Side::kTarget, DirectoryOp::Kind::kModify, l.plan.target_dn, mods, "", "",
                       "moved back: forwards to the old mailbox"});
      }
    }
    if (options.dry_run) {
      console.out << fmt::format("{}: would restore {} ({} directory changes):\n{}", l.jm.identity,
                                 snap.dn(), ops.size(), FormatOpsText(ops, console.color));
      ++done;
      continue;
    }
    Status s = (*journal)->Claim(l.jm.id);
    if (s.ok()) s = (*journal)->Begin(l.jm.id, "rollback");
    for (const auto& op : ops) {
      if (!s.ok()) break;
      Directory& dir = op.side == Side::kTarget ? *orgs->target : *orgs->source;
      auto applied = ApplyIdempotent(dir, op, log.get(), l.jm.identity);
      if (!applied.ok()) s = applied.status();
    }
    if (s.ok()) s = (*journal)->Finish(l.jm.id, MailboxState::kRolledBack);
    (*journal)->Release(l.jm.id);
    if (!s.ok()) {
      (*journal)->Fail(l.jm.id, "rollback", s.message());
      console.err << "crossmove: " << l.jm.identity << ": rollback failed: " << s.message() << "\n";
      ++failed;
      continue;
    }
    log->StateChange(l.jm.identity, "rolled-back");
    ++done;
    console.out << fmt::format("{}: rolled back ({} restored; mail in both stores kept)\n",
                               l.jm.identity, snap.dn());
  }
  if (options.dry_run) {
    console.out << fmt::format(
        "rollback --dry-run: {} mailboxes would be rolled back; nothing was "
        "written\n",
        done);
    return failed ? kExitSomeFailed : kExitOk;
  }
  console.out << fmt::format("rollback: {} mailboxes rolled back, {} failed\n", done, failed);
  return failed ? kExitSomeFailed : kExitOk;
}

}  // namespace cm

namespace cm {

int RunForget(const Config& config, const RunOptions& options, Console console) {
  if (options.identities.empty()) {
    PrintError("forget needs the identities of the mailboxes to forget", options.json, console);
    return kExitUsage;
  }
  if (!FileExists(config.journal)) {
    PrintError(fmt::format("no journal at {} (nothing has run yet)", config.journal), options.json,
               console);
    return kExitUsage;
  }
  int refused = kExitUsage;
  std::optional<RunLock> run_lock = LockJournal(config, options, console, refused);
  if (!run_lock) return refused;
  auto journal = Journal::Open(config.journal);
  auto all =
      journal.ok() ? (*journal)->All() : Result<std::vector<JournalMailbox>>(journal.status());
  if (!all.ok()) {
    PrintError(all.status().message(), options.json, console);
    return kExitUsage;
  }
  JournalIdentities known = IdentitiesOf(*all);
  auto chosen =
      ChooseMailboxes(options.identities, known.identities, config, options.json, console);
  if (!chosen) return kExitUsage;
  // Only a mailbox whose directories hold nothing of the move: else the next run would plan it
  // from a source that is already a contact, or collide with the target object it made.
  std::vector<std::string> problems;
  for (size_t i : *chosen) {
    const JournalMailbox& m = (*all)[i];
    // A snapshot is not a directory write; a provision step that failed may have written some.
    bool untouched = m.state == MailboxState::kPending ||
                     (m.state == MailboxState::kSnapshotted && m.failed_step != "provision");
    if (m.state == MailboxState::kRolledBack || untouched) continue;
    problems.push_back(fmt::format(
        "{} is {}{}: {}; nothing was forgotten", m.identity, ToString(m.state),
        m.failed() ? fmt::format(" (failed at {})", m.failed_step) : "",
        m.state >= MailboxState::kSourceCleaned
            ? "its source was cleaned up and not rolled back (rollback it first, or leave it: "
              "it is moved)"
            : "its target object was provisioned (finish it with run, or rollback it first)"));
  }
  if (!problems.empty()) {
    PrintError(Join(problems, "\n"), options.json, console);
    return kExitUsage;
  }
  nlohmann::json forgotten = nlohmann::json::array();
  for (size_t i : *chosen) {
    const JournalMailbox& m = (*all)[i];
    if (Status s = (*journal)->Forget(m.id); !s.ok()) {
      PrintError(fmt::format("{}: {}", m.identity, s.message()), options.json, console);
      return kExitUsage;
    }
    forgotten.push_back({{"identity", m.identity}, {"state", ToString(m.state)}});
    if (!options.json)
      console.out << fmt::format(
          "{}: forgotten ({}); the next run moves it again{}\n", m.identity, ToString(m.state),
          m.state == MailboxState::kRolledBack
              ? " (its target object is now a mail user: allow-merge lets the run reuse it)"
              : "");
  }
  if (options.json) console.out << nlohmann::json{{"forgotten", forgotten}}.dump(2) << "\n";
  return kExitOk;
}

}  // namespace cm
