#include "app/event_log.h"

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "app/value_format.h"
#include "core/strings.h"
#include "io/file.h"
#include "mailstore/delta_sync.h"

namespace cm {

namespace {
std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms);
}

nlohmann::json Shown(const std::string& attr, const Values& values) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& v : values) arr.push_back(DisplayValue(attr, v));
  return arr;
}
}  // namespace

Result<std::unique_ptr<EventLog>> EventLog::Open(const std::string& path, int64_t run_id) {
  std::unique_ptr<EventLog> log(new EventLog());
  // It holds every directory value (before and after): private like the journal and reports.
  CM_RETURN_IF_ERROR(MakePrivateFile(path).Annotate("event log"));
  log->file_ = std::fopen(path.c_str(), "a");
  if (!log->file_)
    return Status::IOError(fmt::format("cannot open event log {}: {}", path, std::strerror(errno)));
  log->run_id_ = run_id;
  return log;
}

EventLog::~EventLog() {
  if (file_) std::fclose(file_);
}

void EventLog::Write(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  std::fputs(line.c_str(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);
}

void EventLog::DirectoryChange(const std::string& mailbox, const DirectoryOp& op,
                               const Entry* before, const Entry* after) {
  std::set<std::string, ILess> attrs;
  if (before) {
    for (const auto& [name, v] : before->attributes()) attrs.insert(name);
  }
  if (after) {
    for (const auto& [name, v] : after->attributes()) attrs.insert(name);
  }
  std::string time = Timestamp();
  for (const auto& attr : attrs) {
    Values b = before ? before->Get(attr) : Values{};
    Values a = after ? after->Get(attr) : Values{};
    if (b == a) continue;
    Write(nlohmann::json{{"time", time},
                         {"run", run_id_},
                         {"event", "directory"},
                         {"mailbox", mailbox},
                         {"side", ToString(op.side)},
                         {"op", ToString(op.kind)},
                         {"dn", op.dn},
                         {"attribute", attr},
                         {"before", Shown(attr, b)},
                         {"after", Shown(attr, a)}}
              .dump());
  }
}

void EventLog::FolderCopied(const std::string& mailbox, const FolderStats& f) {
  Write(nlohmann::json{{"time", Timestamp()},
                       {"run", run_id_},
                       {"event", "folder"},
                       {"mailbox", mailbox},
                       {"source", f.source},
                       {"target", f.target},
                       {"messages", f.messages},
                       {"bytes", f.bytes},
                       {"skipped", f.skipped},
                       {"refused", f.refused},
                       {"seconds", f.seconds}}
            .dump());
}

void EventLog::DuplicateRemoved(const std::string& mailbox, const std::string& folder,
                                const std::string& source_key, const std::string& target_key) {
  Write(nlohmann::json{{"time", Timestamp()},
                       {"run", run_id_},
                       {"event", "duplicate-removed"},
                       {"mailbox", mailbox},
                       {"folder", folder},
                       {"source_key", source_key},
                       {"target_key", target_key}}
            .dump());
}

void EventLog::DeltaCarried(const std::string& mailbox, const DeltaStats& d) {
  Write(nlohmann::json{{"time", Timestamp()},
                       {"run", run_id_},
                       {"event", "delta"},
                       {"mailbox", mailbox},
                       {"new", d.new_messages},
                       {"flags", d.flags_changed},
                       {"expunged", d.expunged},
                       {"moved", d.moved},
                       {"renamed_folders", d.renamed},
                       {"deleted_folders", d.deleted_folders},
                       {"kept_folders", d.kept_folders}}
            .dump());
}

void EventLog::StateChange(const std::string& mailbox, std::string_view state,
                           const std::string& detail) {
  nlohmann::json j{{"time", Timestamp()},
                   {"run", run_id_},
                   {"event", "state"},
                   {"mailbox", mailbox},
                   {"state", state}};
  if (!detail.empty()) j["detail"] = detail;
  Write(j.dump());
}

}  // namespace cm
