#include "mailstore/imap_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/mutf7.h"
#include "core/strings.h"

namespace cm {

namespace {

// Messages up to this size are fetched whole; larger ones in partial fetches of this size.
constexpr uint64_t kPartial = 1u << 20;
// The size of a message read without a listing (ReadMessage): fetched whole, not checked.
constexpr uint64_t kSizeUnknown = UINT64_MAX;
// Small messages named in one UID FETCH command, and their bytes at most: answers are held
// until they can be handed on in order, so this bounds what a read holds.
constexpr size_t kFetchWindow = 64;
constexpr uint64_t kWindowBytes = 4u << 20;

// Sets the client's untagged-response handler for one operation and clears it after, so no
// handler outlives the locals it captures.
class HandlerScope {
 public:
  HandlerScope(ImapClient& client, ImapClient::Handler handler) : client_(client) {
    client_.SetHandler(std::move(handler));
  }
  ~HandlerScope() { client_.SetHandler(nullptr); }

 private:
  ImapClient& client_;
};

uint64_t Number(const ImapValue& v) {
  uint64_t n = 0;
  std::from_chars(v.text.data(), v.text.data() + v.text.size(), n);
  return n;
}

// What one FETCH response says of one message.
struct Fetched {
  uint32_t uid = 0;
  bool has_flags = false;
  std::vector<std::string> flags, keywords;
  bool has_size = false;  // an RFC822.SIZE that is a number
  uint64_t size = 0;
  bool has_date = false;
  int64_t internal_date = 0;
  std::string header;  // BODY[HEADER.FIELDS (...)]
  bool has_body = false;
  bool has_origin = false;  // BODY[]<origin>: the answer to a partial fetch
  uint64_t origin = 0;
  std::string body;  // BODY[] or BODY[]<origin>
};

std::optional<Fetched> ParseFetch(ImapResponse& r) {
  if (r.data.size() < 3 || !r.data[1].IsAtom("FETCH") || r.data[2].kind != ImapValue::Kind::kList)
    return std::nullopt;
  Fetched f;
  auto& items = r.data[2].items;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    std::string name = AsciiUpper(items[i].text);
    ImapValue& value = items[i + 1];
    if (name == "UID") {
      f.uid = static_cast<uint32_t>(Number(value));
    } else if (name == "FLAGS") {
      f.has_flags = true;
      for (const auto& flag : value.items) {
        if (IEquals(flag.text, "\\Recent")) continue;
        (flag.text.starts_with('\\') ? f.flags : f.keywords).push_back(flag.text);
      }
    } else if (name == "RFC822.SIZE") {
      const std::string& t = value.text;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), f.size);
      f.has_size = value.kind == ImapValue::Kind::kAtom && !t.empty() && ec == std::errc() &&
                   p == t.data() + t.size();
    } else if (name == "INTERNALDATE") {
      auto t = ParseImapDateTime(value.text);
      if (t.ok()) f.internal_date = *t;
      f.has_date = t.ok();
    } else if (name.starts_with("BODY[HEADER.FIELDS")) {
      f.header = std::move(value.text);
    } else if (name.starts_with("BODY[]")) {
      std::string_view rest = std::string_view(name).substr(6);
      if (!rest.empty()) {
        // "<origin>": anything else after BODY[] is not an answer to what we ask.
        if (rest.size() < 3 || rest.front() != '<' || rest.back() != '>') continue;
        auto [p, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size() - 1, f.origin);
        if (ec != std::errc() || p != rest.data() + rest.size() - 1) continue;
        f.has_origin = true;
      }
      f.has_body = true;
      f.body = std::move(value.text);
    }
  }
  return f;
}

// "5:7,9" in order -> 5 6 7 9 (APPENDUID, RFC 4315).
std::vector<uint32_t> ExpandUidSet(std::string_view set) {
  std::vector<uint32_t> out;
  for (const auto& part : Split(set, ',')) {
    size_t colon = part.find(':');
    uint32_t a = 0, b = 0;
    std::from_chars(part.data(), part.data() + part.size(), a);
    b = a;
    if (colon != std::string::npos)
      std::from_chars(part.data() + colon + 1, part.data() + part.size(), b);
    if (a > b) std::swap(a, b);
    if (a == 0 || b - a > 1000000) return {};
    for (uint32_t u = a; u <= b; ++u) out.push_back(u);
  }
  return out;
}

std::string Key(uint32_t uidvalidity, uint32_t uid) {
  return fmt::format("{}.{}", uidvalidity, uid);
}

SpecialUse SpecialUseOfAttribute(std::string_view attribute) {
  for (SpecialUse use : {SpecialUse::kSent, SpecialUse::kDrafts, SpecialUse::kTrash,
                         SpecialUse::kJunk, SpecialUse::kArchive}) {
    if (IEquals(attribute, ToString(use))) return use;
  }
  return SpecialUse::kNone;
}

}  // namespace

namespace {
std::mutex shared_slots_mu;
std::shared_ptr<SharedConnectionSlots> shared_slots;  // guarded by shared_slots_mu
}  // namespace

void ShareConnectionSlots(std::shared_ptr<SharedConnectionSlots> slots) {
  std::lock_guard lock(shared_slots_mu);
  shared_slots = std::move(slots);
}

// A place among the connections to one server (`max-connections`), held while connected: one
// of this process's, and, where places are shared with other processes, one of theirs too.
class ConnectionSlot {
 public:
  static Result<std::unique_ptr<ConnectionSlot>> Take(const std::string& server, int max,
                                                      int timeout_seconds) {
    static std::mutex registry_mu;
    static std::map<std::string, std::shared_ptr<Counter>> registry;
    std::shared_ptr<Counter> counter;
    {
      std::lock_guard lock(registry_mu);
      auto& c = registry[server];
      if (!c) c = std::make_shared<Counter>();
      counter = c;
    }
    std::shared_ptr<SharedConnectionSlots> shared;
    {
      std::lock_guard lock(shared_slots_mu);
      shared = shared_slots;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
    auto busy = [&] {
      return Status::Unavailable(
          fmt::format("{}: all {} connections (max-connections{}) stayed busy for {} s", server,
                      max, shared ? ", across the workers" : "", timeout_seconds));
    };
    // Declared before the lock, so that a slot given up on the way out (no shared place came
    // free in time) releases its count after the lock is let go, not under it.
    std::unique_ptr<ConnectionSlot> slot;
    std::unique_lock lock(counter->mu);
    if (max > 0 && !counter->cv.wait_until(lock, deadline, [&] { return counter->used < max; }))
      return busy();
    ++counter->used;
    slot.reset(new ConnectionSlot(counter));
    if (!shared || max <= 0) return slot;
    // One of the places no process holds: this process's own are skipped (an advisory lock
    // taken twice by one session is taken, not refused). Others' come free as their
    // connections close, or as a dead worker's session ends.
    while (true) {
      for (int place = 0; place < max; ++place) {
        if (counter->places.count(place)) continue;
        auto took = shared->TryTake(server, place);
        if (!took.ok()) return took.status().Annotate("taking a shared connection place");
        if (*took) {
          counter->places.insert(place);
          slot->shared_ = std::move(shared);
          slot->server_ = server;
          slot->place_ = place;
          return slot;
        }
      }
      if (std::chrono::steady_clock::now() >= deadline) return busy();
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      lock.lock();
    }
  }
  ~ConnectionSlot() {
    std::lock_guard lock(counter_->mu);
    if (shared_) {
      shared_->Release(server_, place_);
      counter_->places.erase(place_);
    }
    --counter_->used;
    counter_->cv.notify_one();
  }

 private:
  struct Counter {
    std::mutex mu;
    std::condition_variable cv;
    int used = 0;
    std::set<int> places;  // the shared places this process holds
  };
  explicit ConnectionSlot(std::shared_ptr<Counter> c) : counter_(std::move(c)) {}
  std::shared_ptr<Counter> counter_;
  std::shared_ptr<SharedConnectionSlots> shared_;
  std::string server_;
  int place_ = -1;
};

ImapStore::ImapStore(ImapEndpoint endpoint, MailStoreOptions options)
    : endpoint_(std::move(endpoint)), options_(std::move(options)), location_(ImapUrl(endpoint_)) {}

ImapStore::~ImapStore() {
  client_.reset();  // closed before its place among the server's connections is given up
  slot_.reset();
}

Capabilities ImapStore::capabilities() const { return capabilities_; }

Status ImapStore::Drop(Status why) {
  // Not destroyed here: a caller up the stack may still hold the client. Client() replaces it.
  if (client_) client_->Abandon(why);
  selected_.clear();
  return why;
}

Result<ImapClient*> ImapStore::Client() {
  if (client_ && !client_->broken()) return client_.get();
  bool reconnect = client_ != nullptr;
  client_.reset();
  selected_.clear();
  const ImapAccess& access = *options_.imap;
  if (!slot_) {
    auto slot = ConnectionSlot::Take(fmt::format("{}:{}", endpoint_.host, endpoint_.port),
                                     access.max_connections, access.timeout_seconds);
    if (!slot.ok()) return slot.status();
    slot_ = std::move(*slot);
  }
  // A first connection that fails is a setting or a server that is down: said at once. A
  // connection lost mid-move is tried again with backoff (restarts, throttling).
  int attempts = reconnect ? 4 : 1;
  Status last;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
    auto c = ImapClient::Connect(endpoint_, access);
    if (c.ok()) {
      client_ = std::move(*c);
      capabilities_.append_returns_key = client_->Has("UIDPLUS");
      capabilities_.special_use = client_->Has("SPECIAL-USE");
      capabilities_.changed_since = client_->Has("CONDSTORE");
      if (!namespace_known_) CM_RETURN_IF_ERROR(LearnNamespace(*client_));
      return client_.get();
    }
    last = c.status();
    if (last.code() != Status::Code::kUnavailable) break;
  }
  return last;
}

Status ImapStore::LearnNamespace(ImapClient& client) {
  if (client.Has("NAMESPACE")) {
    bool personal_seen = false;
    HandlerScope scope(client, [&](ImapResponse& r) {
      if (r.data.size() < 2 || !r.data[0].IsAtom("NAMESPACE")) return;
      for (size_t kind = 1; kind < r.data.size() && kind <= 3; ++kind) {
        for (const auto& ns : r.data[kind].items) {
          if (ns.items.size() < 2) continue;
          if (kind == 1 && !personal_seen) {
            personal_seen = true;
            prefix_ = ns.items[0].text;
            if (ns.items[1].kind == ImapValue::Kind::kString && !ns.items[1].text.empty())
              separator_ = ns.items[1].text[0];
          } else if (!ns.items[0].text.empty()) {
            other_prefixes_.push_back(ns.items[0].text);
          }
        }
      }
    });
    ImapCommand c(client.NextTag(), "NAMESPACE", false);
    auto r = client.Execute(c, fmt::format("{}: NAMESPACE", location_));
    if (!r.ok()) return r.status();
    if (personal_seen) {
      namespace_known_ = true;
      return Status::Ok();
    }
  }
  // No NAMESPACE: the hierarchy separator of the root, no prefix.
  HandlerScope scope(client, [&](ImapResponse& r) {
    if (r.data.size() >= 3 && r.data[0].IsAtom("LIST") &&
        r.data[2].kind == ImapValue::Kind::kString && !r.data[2].text.empty())
      separator_ = r.data[2].text[0];
  });
  ImapCommand c(client.NextTag(), "LIST", false);
  c.String("").String("");
  auto r = client.Execute(c, fmt::format("{}: LIST", location_));
  if (!r.ok()) return r.status();
  namespace_known_ = true;
  return Status::Ok();
}

std::optional<Folder> ImapStore::FolderOf(const std::string& mailbox) const {
  Folder folder;
  folder.listed_name = mailbox;
  if (IEquals(mailbox, "INBOX")) {
    folder.path = {"INBOX"};
    return folder;
  }
  std::string_view name = mailbox;
  if (!prefix_.empty()) {
    if (!name.starts_with(prefix_) || name.size() == prefix_.size()) return std::nullopt;
    name.remove_prefix(prefix_.size());
  } else {
    for (const auto& other : other_prefixes_) {
      if (name.starts_with(other) || name == std::string_view(other).substr(0, other.size() - 1))
        return std::nullopt;
    }
  }
  for (const auto& part : Split(name, separator_)) {
    auto decoded = DecodeMutf7(part);
    if (decoded.ok()) {
      // Strict: only the one spelling an encoder produces, so that the target's name, encoded
      // again, is the same name.
      auto again = EncodeMutf7(*decoded);
      if (again.ok() && *again == part) {
        folder.path.push_back(*decoded);
        continue;
      }
    }
    if (folder.name_error.empty()) {
      folder.name_error = decoded.ok() ? fmt::format(
                                             "'{}' is not the canonical modified UTF-7 "
                                             "of '{}' (RFC 3501 5.1.3)",
                                             EscapeControlCharacters(part), *decoded)
                                       : decoded.status().message();
    }
    // Shown to people with what is not text escaped; never used to open or create a folder.
    folder.path.push_back(EscapeControlCharacters(part));
  }
  return folder;
}

Result<std::string> ImapStore::MailboxName(const Folder& folder) {
  if (!folder.listed_name.empty()) return folder.listed_name;
  if (folder.IsInbox()) return std::string("INBOX");
  if (!client_ && !namespace_known_) {
    auto c = Client();
    if (!c.ok()) return c.status();
  }
  std::vector<std::string> parts;
  for (const auto& component : folder.path) {
    if (component.empty() || component.find(separator_) != std::string::npos) {
      return Status::InvalidInput(fmt::format(
          "folder '{}' cannot be named on {}: a name part is empty or holds the separator '{}'",
          folder.Name(), location_, separator_));
    }
    auto encoded = EncodeMutf7(component);
    if (!encoded.ok()) return encoded.status();
    parts.push_back(*encoded);
  }
  return prefix_ + Join(parts, std::string(1, separator_));
}

Status ImapStore::Examine(ImapClient& client, const std::string& mailbox) {
  return OpenMailbox(client, mailbox, /*writable=*/false);
}

Status ImapStore::Select(ImapClient& client, const std::string& mailbox) {
  return OpenMailbox(client, mailbox, /*writable=*/true);
}

Status ImapStore::OpenMailbox(ImapClient& client, const std::string& mailbox, bool writable) {
  uint32_t uidvalidity = 0;
  HandlerScope scope(client, [&](ImapResponse& r) {
    if (r.code == "UIDVALIDITY") {
      std::from_chars(r.code_argument.data(), r.code_argument.data() + r.code_argument.size(),
                      uidvalidity);
    }
  });
  const char* verb = writable ? "SELECT" : "EXAMINE";
  ImapCommand c(client.NextTag(), verb, client.Has("LITERAL+"));
  c.String(mailbox);
  auto r = client.Execute(c, fmt::format("{}: {} {}", location_, verb, mailbox));
  // selected_ names a folder open read-only: after a SELECT the next read EXAMINEs again.
  selected_ = r.ok() && !writable ? mailbox : "";
  if (!r.ok()) return r.status();
  uidvalidity_ = uidvalidity;
  return Status::Ok();
}

Result<uint32_t> ImapStore::UidOf(const std::string& key) const {
  size_t dot = key.find('.');
  uint32_t validity = 0, uid = 0;
  if (dot == std::string::npos ||
      std::from_chars(key.data(), key.data() + dot, validity).ec != std::errc() ||
      std::from_chars(key.data() + dot + 1, key.data() + key.size(), uid).ec != std::errc()) {
    return Status::InvalidInput(fmt::format("'{}' is not an IMAP message key", key));
  }
  if (validity != uidvalidity_) {
    return Status::NotFound(
        fmt::format("message {} is gone (UIDVALIDITY is now {})", key, uidvalidity_));
  }
  return uid;
}

Status ImapStore::CheckAccess() {
  auto c = Client();
  if (!c.ok()) return c.status();
  return Examine(**c, "INBOX");
}

Status CheckImapConnection(const ImapEndpoint& endpoint, const ImapAccess& access, bool log_in) {
  auto place = ConnectionSlot::Take(fmt::format("{}:{}", endpoint.host, endpoint.port),
                                    access.max_connections, access.timeout_seconds);
  if (!place.ok()) return place.status();
  auto c = log_in ? ImapClient::Connect(endpoint, access) : ImapClient::Probe(endpoint, access);
  return c.ok() ? Status::Ok() : c.status();  // closed before its place is given up
}

Status ImapStore::CheckServer() {
  if (!slot_) return CheckImapConnection(endpoint_, *options_.imap, /*log_in=*/false);
  auto c = ImapClient::Probe(endpoint_, *options_.imap);  // within this store's place
  return c.ok() ? Status::Ok() : c.status();
}

std::string ImapStore::server() const {
  return fmt::format("{}://{}:{}", endpoint_.implicit_tls ? "imaps" : "imap", endpoint_.host,
                     endpoint_.port);
}

Result<std::vector<Folder>> ImapStore::ListFolders() {
  auto c = Client();
  if (!c.ok()) return c.status();
  ImapClient& client = **c;
  bool extended = client.Has("LIST-EXTENDED");
  bool with_status = extended && client.Has("LIST-STATUS");
  bool modseq = client.Has("CONDSTORE");
  std::map<std::string, Folder> by_name;
  std::map<std::string, std::string> states, ids;
  struct Counts {
    int64_t messages = -1, bytes = -1;
  };
  std::map<std::string, Counts> sizes;
  std::set<std::string> subscribed;
  HandlerScope scope(client, [&](ImapResponse& r) {
    if (r.data.size() >= 4 && (r.data[0].IsAtom("LIST") || r.data[0].IsAtom("LSUB"))) {
      bool lsub = r.data[0].IsAtom("LSUB");
      const std::string& name = r.data[3].text;
      if (lsub) {
        subscribed.insert(name);
        return;
      }
      auto listed = FolderOf(name);
      if (!listed) return;
      Folder f = std::move(*listed);
      for (const auto& attr : r.data[1].items) {
        if (attr.IsAtom("\\Noselect")) f.selectable = false;
        if (attr.IsAtom("\\NonExistent")) return;  // subscribed to, but not there
        if (attr.IsAtom("\\Subscribed")) subscribed.insert(name);
        if (SpecialUse use = SpecialUseOfAttribute(attr.text); use != SpecialUse::kNone)
          f.special_use = use;
      }
      by_name[name] = std::move(f);
    } else if (r.data.size() >= 3 && r.data[0].IsAtom("STATUS")) {
      std::string state;
      Counts counts;
      for (size_t i = 0; i + 1 < r.data[2].items.size(); i += 2) {
        const std::string& item = r.data[2].items[i].text;
        const std::string& value = r.data[2].items[i + 1].text;
        if (IEquals(item, "SIZE")) {
          counts.bytes = static_cast<int64_t>(Number(r.data[2].items[i + 1]));
          continue;  // not part of the state: MESSAGES and UIDNEXT change with it
        }
        if (IEquals(item, "MAILBOXID")) {  // "MAILBOXID (F2212ea87...)", RFC 8474
          const auto& id = r.data[2].items[i + 1];
          if (!id.items.empty()) ids[r.data[1].text] = id.items[0].text;
          continue;  // an identity, not a state
        }
        if (IEquals(item, "MESSAGES"))
          counts.messages = static_cast<int64_t>(Number(r.data[2].items[i + 1]));
        state += item + "=" + value + " ";
      }
      states[r.data[1].text] = state;
      sizes[r.data[1].text] = counts;
    }
  });
  std::string status_items = "(UIDVALIDITY UIDNEXT MESSAGES";
  if (modseq) status_items += " HIGHESTMODSEQ";
  if (client.Has("STATUS=SIZE")) status_items += " SIZE";    // RFC 8438: the snapshot's bytes
  if (client.Has("OBJECTID")) status_items += " MAILBOXID";  // RFC 8474: survives a rename
  status_items += ")";
  ImapCommand list(client.NextTag(), "LIST", client.Has("LITERAL+"));
  list.String("").String("*");
  if (extended) {
    std::string returns = "(SUBSCRIBED";
    if (client.Has("SPECIAL-USE")) returns += " SPECIAL-USE";
    if (with_status) returns += " STATUS " + status_items;
    list.Atom("RETURN").Atom(returns + ")");
  }
  if (!selected_.empty()) {
    // A server answers STATUS for the selected folder from this session's view of it, which
    // learns of other sessions' changes only when a command lets it: a NOOP first, answered
    // before the LIST goes (Dovecot runs pipelined commands side by side, and a LIST beside the
    // NOOP still saw the old view), so that no folder's state says "unchanged" while mail or a
    // flag changed there (RFC 3501 6.3.10: STATUS of the selected mailbox).
    ImapCommand noop(client.NextTag(), "NOOP", false);
    auto synced = client.Execute(noop, fmt::format("{}: NOOP", location_));
    if (!synced.ok()) return synced.status();
  }
  CM_RETURN_IF_ERROR(client.Send(list));
  std::string lsub_tag;
  if (!extended) {
    ImapCommand lsub(client.NextTag(), "LSUB", false);
    lsub.String("").String("*");
    lsub_tag = lsub.tag();
    CM_RETURN_IF_ERROR(client.Send(lsub));
  }
  for (const std::string& tag : {list.tag(), lsub_tag}) {
    if (tag.empty()) continue;
    auto r = client.Wait(tag);
    if (!r.ok()) return r.status();
    if (r->status != "OK") return ImapFailure(*r, fmt::format("{}: LIST", location_));
  }
  by_name.try_emplace("INBOX", Folder{{"INBOX"}, SpecialUse::kNone, true, false, ""});
  // Without LIST-STATUS: one STATUS per folder, all in flight at once.
  if (!with_status) {
    std::vector<std::string> tags;
    for (const auto& [name, f] : by_name) {
      if (!f.selectable) continue;
      ImapCommand st(client.NextTag(), "STATUS", client.Has("LITERAL+"));
      st.String(name).Atom(status_items);
      tags.push_back(st.tag());
      CM_RETURN_IF_ERROR(client.Send(st));
    }
    for (const auto& tag : tags) {
      auto r = client.Wait(tag);
      if (!r.ok()) return r.status();
    }
  }
  folder_states_ = states;
  ++folder_listings_;
  std::vector<Folder> folders;
  std::set<std::vector<std::string>> seen;
  bool marked[6] = {false};
  for (auto& [name, f] : by_name) {
    f.subscribed = subscribed.count(name) > 0;
    if (auto it = states.find(name); it != states.end() && f.selectable) {
      f.state = it->second;
      f.messages = sizes[name].messages;
      f.bytes = sizes[name].bytes;
    }
    if (auto it = ids.find(name); it != ids.end()) f.id = it->second;
    marked[static_cast<int>(f.special_use)] = true;
    seen.insert(f.path);
  }
  for (auto& [name, f] : by_name) {
    // A server that marks no folder of a use: the well-known names stand in (as for Maildir).
    if (f.path.size() == 1 && f.special_use == SpecialUse::kNone && !f.IsInbox()) {
      SpecialUse by_name_use = SpecialUseOfName(f.path[0]);
      if (!marked[static_cast<int>(by_name_use)]) f.special_use = by_name_use;
    }
    folders.push_back(std::move(f));
  }
  // Parents that exist only by implication.
  size_t listed = folders.size();
  for (size_t i = 0; i < listed; ++i) {
    for (size_t k = 1; k < folders[i].path.size(); ++k) {
      std::vector<std::string> parent(folders[i].path.begin(),
                                      folders[i].path.begin() + static_cast<long>(k));
      if (seen.insert(parent).second)
        folders.push_back(Folder{parent, SpecialUse::kNone, false, false, ""});
    }
  }
  std::sort(folders.begin(), folders.end(), [](const Folder& a, const Folder& b) {
    if (a.IsInbox() != b.IsInbox()) return a.IsInbox();
    return a.path < b.path;
  });
  return folders;
}

Result<std::vector<MessageMeta>> ImapStore::ListMessages(const Folder& folder, Detail detail) {
  auto name = MailboxName(folder);
  if (!name.ok()) return name.status();
  // A folder whose state (UIDVALIDITY, UIDNEXT, MESSAGES and HIGHESTMODSEQ, from one
  // LIST-STATUS) is, in a listing of folders made after this store last listed its messages,
  // what it was in the listing of folders before that has not changed in between, not even a
  // flag (RFC 7162: every change raises HIGHESTMODSEQ). That listing is then the folder as the
  // later LIST-STATUS saw it, so verification right after a copy need not ask the server again.
  // Once per listing of folders: asked again before the next one, the server is asked (what
  // changed since that LIST-STATUS is the next pass's either way). Only states this store read
  // itself count (a caller's Folder may carry another store's), and without HIGHESTMODSEQ a
  // flag change would not show, so nothing is reused.
  std::string state_now;
  if (auto it = folder_states_.find(*name); it != folder_states_.end()) state_now = it->second;
  bool reusable = state_now.find("HIGHESTMODSEQ=") != std::string::npos;
  if (auto it = listings_.find(*name);
      reusable && it != listings_.end() && it->second.folder_listings < folder_listings_ &&
      it->second.state == state_now &&
      (detail != Detail::kFullWithMessageId || it->second.detail == Detail::kFullWithMessageId)) {
    it->second.folder_listings = folder_listings_;
    return it->second.messages;
  }
  auto c = Client();
  if (!c.ok()) return c.status();
  ImapClient& client = **c;
  // EXAMINE and the listing go together: one round trip per folder.
  uint32_t uidvalidity = 0;
  std::vector<MessageMeta> out;
  std::vector<Fetched> fetched;
  // How many messages the server says the folder holds (EXISTS, less EXPUNGEs since) when the
  // listing starts: a listing that names fewer is a server leaving answers out, never an emptier
  // folder. (An EXISTS after the first answer is mail that came meanwhile.)
  std::optional<uint64_t> exists, exists_when_listed;
  bool listing_started = false;
  HandlerScope scope(client, [&](ImapResponse& r) {
    if (r.code == "UIDVALIDITY") {
      std::from_chars(r.code_argument.data(), r.code_argument.data() + r.code_argument.size(),
                      uidvalidity);
    }
    if (r.data.size() >= 2 && r.data[0].kind == ImapValue::Kind::kAtom) {
      if (r.data[1].IsAtom("EXISTS")) exists = Number(r.data[0]);
      if (r.data[1].IsAtom("EXPUNGE") && exists && *exists > 0) --*exists;
    }
    auto f = ParseFetch(r);
    if (f && f->uid != 0 && f->has_flags) {
      if (!listing_started) exists_when_listed = exists;
      listing_started = true;
      fetched.push_back(std::move(*f));
    }
  });
  ImapCommand examine(client.NextTag(), "EXAMINE", client.Has("LITERAL+"));
  examine.String(*name);
  ImapCommand fetch(client.NextTag(), "UID FETCH", false);
  fetch.Atom("1:*");
  fetch.Atom(detail == Detail::kFullWithMessageId
                 ? "(UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
                 : "(UID FLAGS RFC822.SIZE INTERNALDATE)");
  CM_RETURN_IF_ERROR(client.Send(examine));
  CM_RETURN_IF_ERROR(client.Send(fetch));
  auto examined = client.Wait(examine.tag());
  if (!examined.ok()) return examined.status();
  auto listed = client.Wait(fetch.tag());
  if (!listed.ok()) return listed.status();
  if (examined->status != "OK") {
    selected_.clear();
    return ImapFailure(*examined, fmt::format("{}: EXAMINE {}", location_, *name));
  }
  selected_ = *name;
  uidvalidity_ = uidvalidity;
  if (listed->status != "OK")
    return ImapFailure(*listed, fmt::format("{}: UID FETCH in {}", location_, *name));
  std::sort(fetched.begin(), fetched.end(),
            [](const Fetched& a, const Fetched& b) { return a.uid < b.uid; });
  for (size_t k = 0; k < fetched.size(); ++k) {
    // Every read is checked against the size listed: a listing without one cannot be trusted.
    if (!fetched[k].has_size) {
      return Drop(
          Status::Unavailable(fmt::format("{}: the listing of {} gives UID {} no valid RFC822.SIZE",
                                          location_, *name, fetched[k].uid)));
    }
    if (k > 0 && fetched[k].uid == fetched[k - 1].uid) {
      return Drop(Status::Unavailable(fmt::format("{}: the listing of {} names UID {} twice",
                                                  location_, *name, fetched[k].uid)));
    }
  }
  if (!listing_started) exists_when_listed = exists;
  if (exists_when_listed && fetched.size() < *exists_when_listed) {
    return Drop(Status::Unavailable(
        fmt::format("{}: {} holds {} (EXISTS), but the server listed only {}", location_, *name,
                    CountOf(*exists_when_listed, "message"), fetched.size())));
  }
  out.reserve(fetched.size());
  for (auto& f : fetched) {
    MessageMeta m;
    m.key = Key(uidvalidity_, f.uid);
    m.size = f.size;
    m.flags = std::move(f.flags);
    m.keywords = std::move(f.keywords);
    m.internal_date = f.internal_date;
    if (detail == Detail::kFullWithMessageId) m.message_id = MessageIdOf(f.header);
    out.push_back(std::move(m));
  }
  if (reusable) listings_[*name] = {state_now, folder_listings_, detail, out};
  return out;
}

Status ImapStore::ReadMessage(const Folder& folder, const std::string& key, const ChunkSink& sink) {
  MessageMeta meta;
  meta.key = key;
  meta.size = kSizeUnknown;  // fetched whole
  struct One : MessageSink {
    const ChunkSink& sink;
    Status result = Status::NotFound("message is gone");
    explicit One(const ChunkSink& s) : sink(s) {}
    Status Data(size_t, std::string_view chunk) override { return sink(chunk); }
    Status Done(size_t, const Status& read) override {
      result = read;
      return Status::Ok();
    }
  } one(sink);
  CM_RETURN_IF_ERROR(ReadMessages(folder, {&meta}, one));
  return one.result.ok() ? one.result : one.result.Annotate(key);
}

Status ImapStore::ReadMessages(const Folder& folder,
                               const std::vector<const MessageMeta*>& messages, MessageSink& sink) {
  return Read(folder, messages, sink, /*describe=*/false);
}

Status ImapStore::ReadDescribed(const Folder& folder,
                                const std::vector<const MessageMeta*>& messages,
                                MessageSink& sink) {
  return Read(folder, messages, sink, /*describe=*/true);
}

Status ImapStore::Read(const Folder& folder, const std::vector<const MessageMeta*>& messages,
                       MessageSink& sink, bool describe) {
  if (messages.empty()) return Status::Ok();
  auto name = MailboxName(folder);
  if (!name.ok()) return name.status();
  auto c = Client();
  if (!c.ok()) return c.status();
  ImapClient& client = **c;
  if (selected_ != *name) CM_RETURN_IF_ERROR(Examine(client, *name));

  // Pipelined commands may be answered in any order, and a server may interleave the answers
  // of several commands (RFC 9051 §5.5; Dovecot does): so nothing is passed on in the order it
  // arrives. Each answer is checked against what was asked (UID, origin, length), held, and
  // handed to the sink in the plan's order, each message's bytes by origin. What is held is at
  // most what the commands in flight asked for. An answer that does not fit what was asked is
  // the server's mistake or a corrupted stream: the connection is dropped and the read fails as
  // kUnavailable, so the copy pass reads the message again (on a new connection, after a pause)
  // and a server that keeps answering wrongly fails the mailbox naming the message.
  struct Fetch {
    std::vector<size_t> indexes;
    uint64_t offset = 0, length = 0;  // length 0: whole messages
  };
  struct Message {
    uint32_t uid = 0;
    uint64_t size = 0;  // as listed (RFC822.SIZE), or kSizeUnknown
    bool partial = false;
    bool answered = false;                 // whole: its answer came
    std::string whole;                     // whole: the bytes, until passed on
    std::set<uint64_t> asked;              // partial: origins asked for, not yet answered
    std::map<uint64_t, std::string> held;  // partial: origin -> bytes, not yet passed on
    uint64_t passed = 0;                   // partial: bytes passed on (the next origin)
    size_t commands_left = 0;              // commands asking for it that have not completed
    bool finished = false;                 // Done was called
    Status error;                          // the first answer that did not fit
    // describe: what the server says of it (key, flags, date, size), told before its bytes.
    MessageMeta now;
    bool has_flags = false, has_date = false, has_size = false, described = false;
  };
  std::vector<Message> state(messages.size());
  std::vector<Fetch> fetches;
  std::vector<size_t> order;  // the order messages are handed to the sink
  std::map<uint32_t, size_t> index_of_uid;
  for (size_t i = 0; i < messages.size(); ++i) {
    Message& m = state[i];
    auto uid = UidOf(messages[i]->key);
    if (!uid.ok()) {
      m.finished = true;
      CM_RETURN_IF_ERROR(sink.Done(i, uid.status()));
      continue;
    }
    if (index_of_uid.count(*uid)) return Status::Internal("the same message asked for twice");
    m.uid = *uid;
    m.size = messages[i]->size;
    m.now.key = messages[i]->key;
    index_of_uid[*uid] = i;
  }
  // Describing, a message is fetched whole with its flags, date and size in one answer, checked
  // against the size that answer gives; one that may be too large for that (its hint, doubled
  // as a server that stores LF as CRLF may, passes the partial size; or no hint: 0, a record of
  // an earlier version) is listed first and read by its listed size.
  auto listed_first = [](uint64_t hint) {
    return hint == 0 || hint == kSizeUnknown || hint > kPartial / 2;
  };
  auto merge = [&](Message& m, const Fetched& f) {
    if (f.has_flags) {
      m.now.flags = f.flags;
      m.now.keywords = f.keywords;
      m.has_flags = true;
    }
    if (f.has_date) {
      m.now.internal_date = f.internal_date;
      m.has_date = true;
    }
    if (f.has_size) {
      m.now.size = f.size;
      m.has_size = true;
    }
  };
  if (describe) {
    std::vector<std::string> big;
    for (size_t i = 0; i < messages.size(); ++i) {
      Message& m = state[i];
      if (!m.finished && listed_first(m.size)) big.push_back(std::to_string(m.uid));
    }
    if (!big.empty()) {
      HandlerScope scope(client, [&](ImapResponse& r) {
        auto f = ParseFetch(r);
        if (!f || f->has_body) return;
        if (auto it = index_of_uid.find(f->uid); it != index_of_uid.end())
          merge(state[it->second], *f);
      });
      ImapCommand list(client.NextTag(), "UID FETCH", false);
      list.Atom(Join(big, ",")).Atom("(UID FLAGS INTERNALDATE RFC822.SIZE)");
      auto r = client.Execute(list, fmt::format("{}: UID FETCH in {}", location_, *name));
      if (!r.ok()) return r.status();
      for (size_t i = 0; i < messages.size(); ++i) {
        Message& m = state[i];
        if (m.finished || !listed_first(m.size)) continue;
        if (!m.has_size) {
          m.finished = true;
          CM_RETURN_IF_ERROR(sink.Done(i, Status::NotFound(fmt::format("{} holds no message {}",
                                                                       folder.Name(), m.now.key))));
          continue;
        }
        m.size = m.now.size;
      }
    }
  }
  size_t window_bytes = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    Message& m = state[i];
    if (m.finished) continue;
    order.push_back(i);
    if (m.size != kSizeUnknown && m.size > kPartial) {
      m.partial = true;
      for (uint64_t off = 0; off < m.size; off += kPartial) {
        m.asked.insert(off);
        // The last range asks for one byte more than the listing promises: a message longer
        // than its RFC822.SIZE shows itself instead of being cut short without a word.
        uint64_t length = std::min<uint64_t>(kPartial, m.size - off);
        if (off + length == m.size) ++length;
        fetches.push_back({{i}, off, length});
        ++m.commands_left;
      }
      continue;
    }
    if (fetches.empty() || fetches.back().length != 0 ||
        fetches.back().indexes.size() >= kFetchWindow ||
        window_bytes + std::min(m.size, kPartial) > kWindowBytes) {
      fetches.push_back({{}, 0, 0});
      window_bytes = 0;
    }
    fetches.back().indexes.push_back(i);
    window_bytes += m.size == kSizeUnknown ? kPartial : m.size;
    m.commands_left = 1;
    // Described in the answer, checked against the size given there.
    if (describe && !m.has_size) m.size = kSizeUnknown;
  }
  auto what = [&](size_t i, std::string problem) {
    return Status::Unavailable(fmt::format("{}: message {} in {}: {}", location_, messages[i]->key,
                                           folder.Name(), problem));
  };

  Status stopped;  // the sink's, or an answer no message can account for
  size_t cursor = 0;
  auto finish = [&](size_t i, const Status& read) {
    state[i].finished = true;
    state[i].whole = std::string();
    state[i].held.clear();
    if (stopped.ok()) stopped = sink.Done(i, read);
  };
  // Hands on what can go in order: the message at the cursor, its bytes by origin.
  auto pump = [&] {
    while (stopped.ok() && cursor < order.size()) {
      size_t i = order[cursor];
      Message& m = state[i];
      if (m.finished) {
        ++cursor;
        continue;
      }
      if (!m.error.ok()) {
        finish(i, m.error);
        continue;
      }
      if (describe && !m.described && (m.partial ? m.held.count(0) > 0 : m.answered)) {
        if (!m.has_flags || !m.has_date || !m.has_size) {
          finish(i, what(i, "the server did not say its FLAGS, INTERNALDATE and RFC822.SIZE"));
          continue;
        }
        m.described = true;
        stopped = sink.Described(i, m.now);
        if (!stopped.ok()) return;
      }
      if (!m.partial) {
        if (!m.answered) return;
        if (!m.whole.empty()) stopped = sink.Data(i, m.whole);
        finish(i, Status::Ok());
        continue;
      }
      for (auto it = m.held.find(m.passed); stopped.ok() && it != m.held.end();
           it = m.held.find(m.passed)) {
        stopped = sink.Data(i, it->second);
        m.passed += it->second.size();
        m.held.erase(it);
      }
      if (m.passed != m.size) return;
      finish(i, Status::Ok());
    }
  };

  // Set while a command asks whether messages that did not come are still there.
  std::set<uint32_t>* still_listed = nullptr;
  HandlerScope scope(client, [&](ImapResponse& r) {
    auto f = ParseFetch(r);
    if (!f) return;
    if (!f->has_body) {
      if (still_listed && f->uid != 0) still_listed->insert(f->uid);
      // A flag change another session made, or the answer to the check below: news of a
      // message being described all the same.
      if (auto it = index_of_uid.find(f->uid); describe && it != index_of_uid.end())
        merge(state[it->second], *f);
      return;
    }
    if (!stopped.ok()) return;
    auto it = index_of_uid.find(f->uid);
    if (it == index_of_uid.end()) {
      stopped = Status::Unavailable(
          fmt::format("{}: the server sent the content of UID {} in {}, which was not asked for",
                      location_, f->uid, folder.Name()));
      return;
    }
    size_t i = it->second;
    Message& m = state[i];
    if (!m.error.ok()) return;  // its other answers are not looked at
    if (m.finished) {
      stopped = what(i, "the server sent its content again after it was settled");
      return;
    }
    if (describe) merge(m, *f);
    if (!m.partial) {
      if (describe && !m.has_size) {
        m.error = what(i, "the server sent its content without its RFC822.SIZE");
      } else if (describe && f->body.size() != m.now.size) {
        m.error = what(i, fmt::format("the server sent {} bytes, but said RFC822.SIZE {}",
                                      f->body.size(), m.now.size));
      } else if (f->has_origin) {
        m.error = what(i, fmt::format("a partial answer (origin {}) to a whole fetch", f->origin));
      } else if (m.answered) {
        m.error = what(i, "the server sent its content twice");
      } else if (m.size != kSizeUnknown && f->body.size() != m.size) {
        m.error = what(i, fmt::format("the server sent {} bytes, but listed it as {} (RFC822.SIZE)",
                                      f->body.size(), m.size));
      } else {
        m.answered = true;
        m.whole = std::move(f->body);
      }
    } else if (!f->has_origin) {
      m.error = what(i, "a partial fetch answered without its origin");
    } else if (!m.asked.erase(f->origin)) {
      m.error =
          what(i, fmt::format("bytes at origin {} were not asked for, or came twice", f->origin));
    } else if (uint64_t expected = std::min<uint64_t>(kPartial, m.size - f->origin);
               f->body.size() != expected) {
      m.error = what(i, fmt::format("{} bytes at origin {} where {} were due (listed as {} bytes, "
                                    "RFC822.SIZE)",
                                    f->body.size(), f->origin, expected, m.size));
    } else {
      m.held[f->origin] = std::move(f->body);
    }
    pump();
  });

  // A command that completed without answering for a message: expunged since the listing, or a
  // server that leaves answers out. Asked again by UID alone: a message it still lists but did
  // not send is an error, never "nothing to copy".
  auto settle_unanswered = [&](const std::vector<size_t>& unanswered) -> Status {
    std::vector<std::string> uids;
    for (size_t i : unanswered) uids.push_back(std::to_string(state[i].uid));
    std::set<uint32_t> listed;
    still_listed = &listed;
    ImapCommand check(client.NextTag(), "UID FETCH", false);
    check.Atom(Join(uids, ",")).Atom("(UID)");
    auto r = client.Execute(check, fmt::format("{}: UID FETCH in {}", location_, *name));
    still_listed = nullptr;
    if (!r.ok()) return r.status();
    for (size_t i : unanswered) {
      Message& m = state[i];
      if (!m.error.ok() || m.finished) continue;
      if (listed.count(m.uid)) {
        m.error = what(i, m.partial ? "the server left parts of it unanswered, though it still "
                                      "lists it"
                                    : "the server did not send it, though it still lists it");
      } else if (m.partial && (m.passed > 0 || !m.held.empty())) {
        m.error = what(i, "it went away while it was being read");
      } else {
        finish(i, Status::NotFound(fmt::format("message {} was expunged from {}", messages[i]->key,
                                               folder.Name())));
      }
    }
    pump();
    return Status::Ok();
  };

  const int depth = std::max(1, options_.imap->pipeline_depth);
  std::deque<std::pair<std::string, size_t>> in_flight;  // tag, fetch
  size_t next = 0;
  while ((next < fetches.size() && stopped.ok()) || !in_flight.empty()) {
    while (stopped.ok() && next < fetches.size() && in_flight.size() < static_cast<size_t>(depth)) {
      const Fetch& f = fetches[next];
      std::vector<std::string> uids;
      for (size_t i : f.indexes) uids.push_back(std::to_string(state[i].uid));
      ImapCommand cmd(client.NextTag(), "UID FETCH", false);
      cmd.Atom(Join(uids, ","));
      if (describe && f.length == 0) {
        cmd.Atom("(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])");
      } else {
        cmd.Atom(f.length == 0 ? "(UID BODY.PEEK[])"
                               : fmt::format("(UID BODY.PEEK[]<{}.{}>)", f.offset, f.length));
      }
      CM_RETURN_IF_ERROR(client.Send(cmd));
      in_flight.emplace_back(cmd.tag(), next++);
    }
    auto [tag, index] = in_flight.front();
    in_flight.pop_front();
    auto r = client.Wait(tag);
    if (!r.ok()) return Drop(r.status());
    if (r->status != "OK") {
      Status failed = ImapFailure(*r, fmt::format("{}: UID FETCH in {}", location_, *name));
      return Drop(failed);
    }
    std::vector<size_t> unanswered;
    for (size_t i : fetches[index].indexes) {
      Message& m = state[i];
      if (--m.commands_left > 0 || m.finished || !m.error.ok()) continue;
      if (m.partial ? !m.asked.empty() : !m.answered) unanswered.push_back(i);
    }
    if (stopped.ok() && !unanswered.empty()) {
      Status settled = settle_unanswered(unanswered);
      if (!settled.ok()) return Drop(settled);
    }
    pump();
  }
  // A sink that stopped, or an answer that fits no message, leaves the stream in an unknown
  // state: the connection is not reused.
  if (!stopped.ok()) return Drop(stopped);
  if (cursor != order.size())
    return Drop(Status::Internal(
        fmt::format("{}: a read in {} ended with messages unsettled", location_, folder.Name())));
  return Status::Ok();
}

Status ImapStore::CreateFolder(const Folder& folder) {
  if (folder.IsInbox()) return Status::Ok();
  if (options_.read_only)
    return Status::Internal(fmt::format("{} is read-only (create {})", location_, folder.Name()));
  auto name = MailboxName(folder);
  if (!name.ok()) return name.status();
  auto c = Client();
  if (!c.ok()) return c.status();
  ImapCommand create((*c)->NextTag(), "CREATE", (*c)->Has("LITERAL+"));
  create.String(*name);
  auto r = (*c)->Execute(create, fmt::format("{}: CREATE {}", location_, *name));
  if (r.ok() || r.status().code() == Status::Code::kAlreadyExists) return Status::Ok();
  // Servers without the ALREADYEXISTS code: is it there?
  bool exists = false;
  {
    HandlerScope scope(**c, [&](ImapResponse& lr) {
      if (lr.data.size() >= 4 && lr.data[0].IsAtom("LIST") && lr.data[3].text == *name) {
        exists = true;
        for (const auto& a : lr.data[1].items) exists &= !a.IsAtom("\\NonExistent");
      }
    });
    ImapCommand list((*c)->NextTag(), "LIST", (*c)->Has("LITERAL+"));
    list.String("").String(*name);
    auto lr = (*c)->Execute(list, fmt::format("{}: LIST", location_));
    if (!lr.ok()) return lr.status();
  }
  return exists ? Status::Ok() : r.status();
}

Status ImapStore::DeleteMessage(const Folder& folder, const std::string& key) {
  return DeleteMessages(folder, {key});
}

Status ImapStore::Unselect(ImapClient& client) {
  // Never CLOSE: it would expunge every message flagged \Deleted. UNSELECT (RFC 3691), or the
  // next EXAMINE, leaves the folder without expunging anything.
  if (!client.Has("UNSELECT")) return Status::Ok();
  ImapCommand unselect(client.NextTag(), "UNSELECT", false);
  auto done = client.Execute(unselect, fmt::format("{}: UNSELECT", location_));
  return done.ok() ? Status::Ok() : done.status();
}

Status ImapStore::LeaveSelected(ImapClient& client) {
  if (selected_.empty()) return Status::Ok();
  if (client.Has("UNSELECT")) {
    selected_.clear();
    return Unselect(client);
  }
  // Without UNSELECT, INBOX is opened instead (never CLOSE: see Unselect); it is never deleted
  // nor renamed.
  return IEquals(selected_, "INBOX") ? Status::Ok() : Examine(client, "INBOX");
}

Result<std::vector<uint32_t>> ImapStore::UidsOf(const std::vector<std::string>& keys) const {
  std::vector<uint32_t> uids;
  for (const auto& key : keys) {
    auto uid = UidOf(key);
    if (uid.ok()) {
      uids.push_back(*uid);
    } else if (uid.status().code() != Status::Code::kNotFound) {
      return uid.status();
    }
  }
  return uids;
}

namespace {
std::string UidSet(const std::vector<uint32_t>& uids) {
  std::vector<std::string> parts;
  for (uint32_t u : uids) parts.push_back(std::to_string(u));
  return Join(parts, ",");
}
}  // namespace

Status ImapStore::ExpungeUids(ImapClient& client, const std::string& mailbox,
                              const std::vector<uint32_t>& uids) {
  if (uids.empty()) return Status::Ok();
  std::string set = UidSet(uids);
  // One command at a time: a server may run pipelined commands at once where RFC 3501 (5.5)
  // sees no ambiguity, and Dovecot does run a UID EXPUNGE beside a UID STORE, so that the
  // expunge can find nothing flagged yet and remove nothing.
  ImapCommand store(client.NextTag(), "UID STORE", false);
  store.Atom(set).Atom("+FLAGS.SILENT").Atom("(\\Deleted)");
  auto stored = client.Execute(store, fmt::format("{}: UID STORE in {}", location_, mailbox));
  if (!stored.ok()) return stored.status();
  ImapCommand expunge(client.NextTag(), "UID EXPUNGE", false);
  expunge.Atom(set);
  auto expunged = client.Execute(expunge, fmt::format("{}: UID EXPUNGE in {}", location_, mailbox));
  if (!expunged.ok()) return expunged.status();
  // The server's OK is not taken for the removal: what it still holds of them is asked, so that
  // a message left behind (flagged \Deleted, in the user's view) stops the mailbox.
  std::set<uint32_t> asked(uids.begin(), uids.end()), left;
  HandlerScope scope(client, [&](ImapResponse& r) {
    auto f = ParseFetch(r);
    if (f && asked.count(f->uid)) left.insert(f->uid);
  });
  ImapCommand check(client.NextTag(), "UID FETCH", false);
  check.Atom(set).Atom("(UID)");
  auto checked = client.Execute(check, fmt::format("{}: UID FETCH in {}", location_, mailbox));
  if (!checked.ok()) return checked.status();
  if (!left.empty()) {
    return Status::Internal(fmt::format(
        "{}: UID EXPUNGE in {} answered OK but left UID {} (flagged \\Deleted); remove {} by hand "
        "or ask the server's administrator why",
        location_, mailbox, UidSet({left.begin(), left.end()}), left.size() == 1 ? "it" : "them"));
  }
  return Status::Ok();
}

Status ImapStore::DeleteMessages(const Folder& folder, const std::vector<std::string>& keys) {
  if (options_.read_only)
    return Status::Internal(fmt::format("{} is read-only (delete messages)", location_));
  if (keys.empty()) return Status::Ok();
  auto name = MailboxName(folder);
  if (!name.ok()) return name.status();
  auto c = Client();
  if (!c.ok()) return c.status();
  ImapClient& client = **c;
  // Only UID EXPUNGE (UIDPLUS) removes these messages without touching others the user marked
  // \Deleted; a plain EXPUNGE would remove those too.
  if (!client.Has("UIDPLUS")) {
    return Status::Constraint(
        fmt::format("{}: cannot remove {} without UIDPLUS (UID EXPUNGE); remove it by hand",
                    location_, Join(keys, ", ")));
  }
  CM_RETURN_IF_ERROR(Select(client, *name));
  auto uids = UidsOf(keys);  // a key of another UIDVALIDITY is gone already
  if (!uids.ok()) return uids.status();
  CM_RETURN_IF_ERROR(ExpungeUids(client, *name, *uids));
  return Unselect(client);
}

Result<FolderChanges> ImapStore::ListChangedSince(const Folder& folder, uint64_t modseq) {
  auto name = MailboxName(folder);
  if (!name.ok()) return name.status();
  auto c = Client();
  if (!c.ok()) return c.status();
  ImapClient& client = **c;
  if (!client.Has("CONDSTORE"))
    return Status::Internal(fmt::format("{} does not offer CONDSTORE", location_));
  uint32_t uidvalidity = 0;
  std::vector<uint32_t> all;
  std::vector<Fetched> changed;
  HandlerScope scope(client, [&](ImapResponse& r) {
    if (r.code == "UIDVALIDITY") {
      std::from_chars(r.code_argument.data(), r.code_argument.data() + r.code_argument.size(),
                      uidvalidity);
    }
    if (!r.data.empty() && r.data[0].IsAtom("SEARCH")) {
      for (size_t i = 1; i < r.data.size(); ++i) {
        if (r.data[i].kind == ImapValue::Kind::kAtom && !r.data[i].text.empty() &&
            std::isdigit(static_cast<unsigned char>(r.data[i].text[0])))
          all.push_back(static_cast<uint32_t>(Number(r.data[i])));
      }
      return;
    }
    auto f = ParseFetch(r);
    if (f && f->uid != 0 && f->has_flags) changed.push_back(std::move(*f));
  });
  // One round trip: EXAMINE, every UID, and the flags of what changed since the mod-sequence
  // (RFC 7162: a CHANGEDSINCE fetch turns CONDSTORE on).
  ImapCommand examine(client.NextTag(), "EXAMINE", client.Has("LITERAL+"));
  examine.String(*name);
  ImapCommand search(client.NextTag(), "UID SEARCH", false);
  search.Atom("ALL");
  ImapCommand fetch(client.NextTag(), "UID FETCH", false);
  fetch.Atom("1:*").Atom("(UID FLAGS)").Atom(fmt::format("(CHANGEDSINCE {})", modseq));
  for (const ImapCommand* cmd : {&examine, &search, &fetch}) CM_RETURN_IF_ERROR(client.Send(*cmd));
  for (const ImapCommand* cmd : {&examine, &search, &fetch}) {
    auto r = client.Wait(cmd->tag());
    if (!r.ok()) return r.status();
    if (r->status != "OK") {
      selected_.clear();
      return ImapFailure(*r, fmt::format("{}: listing changes of {}", location_, *name));
    }
  }
  selected_ = *name;
  uidvalidity_ = uidvalidity;
  FolderChanges out;
  std::sort(all.begin(), all.end());
  for (uint32_t uid : all) out.keys.push_back(Key(uidvalidity_, uid));
  for (auto& f : changed) {
    MessageMeta m;
    m.key = Key(uidvalidity_, f.uid);
    m.flags = std::move(f.flags);
    m.keywords = std::move(f.keywords);
    out.changed.push_back(std::move(m));
  }
  return out;
}

Status ImapStore::SetFlags(const Folder& folder, const std::vector<MessageMeta>& messages) {
  if (options_.read_only) return Status::Internal(fmt::format("{} is read-only", location_));
  if (messages.empty()) return Status::Ok();
  auto name = MailboxName(folder);
  if (!name.ok()) return name.status();
  auto c = Client();
  if (!c.ok()) return c.status();
  ImapClient& client = **c;
  CM_RETURN_IF_ERROR(Select(client, *name));
  // One UID STORE per distinct set of flags, all in flight at once.
  std::map<std::string, std::vector<uint32_t>> by_flags;
  for (const MessageMeta& m : messages) {
    auto uid = UidOf(m.key);
    if (!uid.ok()) return uid.status();
    std::vector<std::string> flags;
    for (const auto& f : m.flags) {
      if (!IEquals(f, "\\Recent")) flags.push_back(f);
    }
    flags.insert(flags.end(), m.keywords.begin(), m.keywords.end());
    by_flags["(" + Join(flags, " ") + ")"].push_back(*uid);
  }
  std::vector<std::string> tags;
  for (const auto& [flags, uids] : by_flags) {
    ImapCommand store(client.NextTag(), "UID STORE", false);
    store.Atom(UidSet(uids)).Atom("FLAGS.SILENT").Atom(flags);
    tags.push_back(store.tag());
    CM_RETURN_IF_ERROR(client.Send(store));
  }
  for (const auto& tag : tags) {
    auto r = client.Wait(tag);
    if (!r.ok()) return r.status();
    if (r->status != "OK")
      return ImapFailure(*r, fmt::format("{}: UID STORE in {}", location_, *name));
  }
  return Unselect(client);
}

Result<std::vector<std::string>> ImapStore::MoveMessages(const Folder& from,
                                                         const std::vector<std::string>& keys,
                                                         const Folder& to) {
  if (options_.read_only) return Status::Internal(fmt::format("{} is read-only", location_));
  auto from_name = MailboxName(from);
  if (!from_name.ok()) return from_name.status();
  auto to_name = MailboxName(to);
  if (!to_name.ok()) return to_name.status();
  CM_RETURN_IF_ERROR(CreateFolder(to));
  auto c = Client();
  if (!c.ok()) return c.status();
  ImapClient& client = **c;
  bool move = client.Has("MOVE");
  if (!move && !client.Has("UIDPLUS")) {
    return Status::Constraint(fmt::format(
        "{}: cannot move messages without MOVE or UIDPLUS (UID EXPUNGE of the originals)",
        location_));
  }
  CM_RETURN_IF_ERROR(Select(client, *from_name));
  uint32_t validity = uidvalidity_;
  auto uids = UidsOf(keys);
  if (!uids.ok()) return uids.status();
  // COPYUID (RFC 4315) names each new message: untagged before MOVE's expunges (RFC 6851),
  // in COPY's tagged answer.
  std::map<uint32_t, std::string> new_key;
  auto copyuid = [&](const ImapResponse& r) {
    if (r.code != "COPYUID") return;
    auto parts = Split(r.code_argument, ' ');
    if (parts.size() != 3) return;
    auto src = ExpandUidSet(parts[1]), dst = ExpandUidSet(parts[2]);
    if (src.size() != dst.size()) return;
    for (size_t k = 0; k < src.size(); ++k)
      new_key[src[k]] = parts[0] + "." + std::to_string(dst[k]);
  };
  if (!uids->empty()) {
    HandlerScope scope(client, [&](ImapResponse& r) { copyuid(r); });
    ImapCommand cmd(client.NextTag(), move ? "UID MOVE" : "UID COPY", client.Has("LITERAL+"));
    cmd.Atom(UidSet(*uids)).String(*to_name);
    auto r = client.Execute(cmd, fmt::format("{}: {} from {} to {}", location_,
                                             move ? "UID MOVE" : "UID COPY", *from_name, *to_name));
    if (!r.ok()) return r.status();
    copyuid(*r);
    // Without MOVE: the originals go once the copies are there (a crash between leaves both;
    // the delta pass finds the copy by fingerprint and removes the original then).
    if (!move) CM_RETURN_IF_ERROR(ExpungeUids(client, *from_name, *uids));
  }
  CM_RETURN_IF_ERROR(Unselect(client));
  std::vector<std::string> out;
  for (const auto& key : keys) {
    uint32_t uid = 0;
    size_t dot = key.find('.');
    if (dot != std::string::npos && std::to_string(validity) == key.substr(0, dot))
      std::from_chars(key.data() + dot + 1, key.data() + key.size(), uid);
    auto it = new_key.find(uid);
    out.push_back(it == new_key.end() ? "" : it->second);
  }
  return out;
}

Status ImapStore::RenameFolder(const Folder& from, const Folder& to) {
  if (options_.read_only) return Status::Internal(fmt::format("{} is read-only", location_));
  auto from_name = MailboxName(from);
  if (!from_name.ok()) return from_name.status();
  auto to_name = MailboxName(to);
  if (!to_name.ok()) return to_name.status();
  auto c = Client();
  if (!c.ok()) return c.status();
  CM_RETURN_IF_ERROR(LeaveSelected(**c));
  ImapCommand rename((*c)->NextTag(), "RENAME", (*c)->Has("LITERAL+"));
  rename.String(*from_name).String(*to_name);
  auto r = (*c)->Execute(rename, fmt::format("{}: RENAME {} {}", location_, *from_name, *to_name));
  return r.ok() ? Status::Ok() : r.status();
}

Status ImapStore::DeleteFolder(const Folder& folder) {
  if (options_.read_only) return Status::Internal(fmt::format("{} is read-only", location_));
  auto name = MailboxName(folder);
  if (!name.ok()) return name.status();
  auto c = Client();
  if (!c.ok()) return c.status();
  ImapClient& client = **c;
  CM_RETURN_IF_ERROR(LeaveSelected(client));
  int64_t messages = -1;
  {
    HandlerScope scope(client, [&](ImapResponse& r) {
      if (r.data.size() >= 3 && r.data[0].IsAtom("STATUS") && r.data[2].items.size() >= 2)
        messages = static_cast<int64_t>(Number(r.data[2].items[1]));
    });
    ImapCommand status(client.NextTag(), "STATUS", client.Has("LITERAL+"));
    status.String(*name).Atom("(MESSAGES)");
    auto r = client.Execute(status, fmt::format("{}: STATUS {}", location_, *name));
    if (!r.ok()) return r.status();
  }
  if (messages != 0)
    return Status::Constraint(fmt::format("{}: {} still holds messages", location_, *name));
  ImapCommand del(client.NextTag(), "DELETE", client.Has("LITERAL+"));
  del.String(*name);
  auto r = client.Execute(del, fmt::format("{}: DELETE {}", location_, *name));
  return r.ok() ? Status::Ok() : r.status();
}

Status ImapStore::SetSubscribed(const Folder& folder, bool subscribed) {
  if (options_.read_only) return Status::Internal(fmt::format("{} is read-only", location_));
  auto name = MailboxName(folder);
  if (!name.ok()) return name.status();
  auto c = Client();
  if (!c.ok()) return c.status();
  ImapCommand cmd((*c)->NextTag(), subscribed ? "SUBSCRIBE" : "UNSUBSCRIBE", (*c)->Has("LITERAL+"));
  cmd.String(*name);
  auto r = (*c)->Execute(cmd, fmt::format("{}: SUBSCRIBE {}", location_, *name));
  return r.ok() ? Status::Ok() : r.status();
}

// MULTIAPPEND batches in flight (see imap_store.h).
class ImapAppender : public MessageAppender {
 public:
  ImapAppender(ImapStore& store, Outcome outcome)
      : store_(store), outcome_(std::move(outcome)), access_(*store.options_.imap) {}

  Result<size_t> Begin(const Folder& folder, const MessageMeta& meta) override {
    // A batch is one APPEND command, so one folder.
    if (!building_.items.empty() && building_.folder.path != folder.path)
      CM_RETURN_IF_ERROR(SendBuilding());
    if (building_.items.empty() && building_.folder.path != folder.path) {
      auto mailbox = store_.MailboxName(folder);
      if (!mailbox.ok()) return mailbox.status();
      building_.folder = folder;
      building_.mailbox = std::move(*mailbox);
    }
    Item item{next_seq_++, {}, meta.internal_date, building_.bytes.size(), meta.size};
    for (const auto& f : meta.flags) {
      if (!IEquals(f, "\\Recent")) item.flags.push_back(f);
    }
    item.flags.insert(item.flags.end(), meta.keywords.begin(), meta.keywords.end());
    current_ = item;
    if (meta.size > access_.batch_bytes) {
      // Streams alone. Nothing stays in flight meanwhile: a failure mid-message costs only it.
      CM_RETURN_IF_ERROR(SendBuilding());
      CM_RETURN_IF_ERROR(Reap(/*all=*/true));
      auto c = Session(/*may_connect=*/true);
      if (!c.ok()) return c.status();
      streaming_tag_ = (*c)->NextTag();
      streamed_ = 0;
      bool nonsync = (*c)->NonSynchronizing(meta.size);
      CM_RETURN_IF_ERROR(
          (*c)->SendRaw(CommandStart(**c, streaming_tag_, building_.mailbox) +
                        AppendMessageHeader(item.flags, item.date, item.size, nonsync)));
      if (!nonsync) {
        Status s = (*c)->WaitContinuation(streaming_tag_);
        if (!s.ok()) {
          streaming_tag_.clear();
          if (IsRefusal(s)) {
            outcome_(item.seq, s);
            current_.reset();
            refused_stream_ = true;
            return item.seq;
          }
          return s;
        }
      }
    }
    return item.seq;
  }

  Status Write(std::string_view chunk) override {
    if (!current_ || refused_stream_) return Status::Ok();
    if (streaming_tag_.empty()) {
      // A batch is sent whole and kept for a resend: sized once, not grown by doubling.
      if (building_.bytes.capacity() < access_.batch_bytes)
        building_.bytes.reserve(access_.batch_bytes + (64u << 10));
      building_.bytes.append(chunk);
      return Status::Ok();
    }
    streamed_ += chunk.size();
    if (streamed_ > current_->size) {
      return store_.Drop(Status::Constraint(
          fmt::format("message bigger than the {} bytes announced", current_->size)));
    }
    auto c = Session(/*may_connect=*/false);
    if (!c.ok()) return c.status();
    return (*c)->SendRaw(chunk);
  }

  Status End() override {
    if (refused_stream_) {
      refused_stream_ = false;
      return Status::Ok();
    }
    if (!current_) return Status::Internal("IMAP append: End without Begin");
    Item item = *current_;
    current_.reset();
    if (!streaming_tag_.empty()) {
      std::string tag = std::move(streaming_tag_);
      streaming_tag_.clear();
      if (streamed_ != item.size) {
        return store_.Drop(Status::Constraint(
            fmt::format("message ended after {} of the {} bytes announced", streamed_, item.size)));
      }
      auto c = Session(/*may_connect=*/false);
      if (!c.ok()) return c.status();
      if (Status may = MayCommit(); !may.ok()) return store_.Drop(may);
      CM_RETURN_IF_ERROR((*c)->SendRaw("\r\n"));
      CM_RETURN_IF_ERROR((*c)->Flush());
      Batch streamed;
      streamed.tag = tag;
      streamed.folder = building_.folder;
      streamed.mailbox = building_.mailbox;
      item.offset = 0;
      streamed.items.push_back(item);
      streamed.streamed = true;
      in_flight_.push_back(std::move(streamed));
      return Reap(false);
    }
    item.size = building_.bytes.size() - item.offset;
    building_.items.push_back(item);
    if (building_.items.size() >= access_.batch_messages ||
        building_.bytes.size() >= access_.batch_bytes)
      return SendBuilding();
    return Status::Ok();
  }

  Status Cancel() override {
    if (refused_stream_) {
      refused_stream_ = false;
      return Status::Ok();
    }
    if (!current_) return Status::Ok();
    if (!streaming_tag_.empty()) {
      // A literal cannot be taken back: the connection goes, and with it the half message.
      streaming_tag_.clear();
      current_.reset();
      store_.Drop(Status::Ok());
      return Status::Ok();
    }
    building_.bytes.resize(current_->offset);
    current_.reset();
    return Status::Ok();
  }

  Status Flush() override {
    CM_RETURN_IF_ERROR(SendBuilding());
    return Reap(/*all=*/false);
  }

  Status Finish() override {
    CM_RETURN_IF_ERROR(SendBuilding());
    return Reap(/*all=*/true);
  }

 private:
  struct Item {
    size_t seq;
    std::vector<std::string> flags;
    int64_t date;
    size_t offset;
    uint64_t size;
  };
  struct Batch {
    Folder folder;
    std::string mailbox;  // the folder's name on the server
    std::string tag;
    std::string bytes;
    std::vector<Item> items;
    bool streamed = false;
    bool created_folder = false;
  };

  // The connection the appends in flight went out on. Once it is gone (dropped, replaced) their
  // outcomes are lost: said at once, never waited for on another connection. A new one is
  // made only when nothing is in flight.
  Result<ImapClient*> Session(bool may_connect) {
    bool idle = in_flight_.empty() && streaming_tag_.empty();
    if (idle && may_connect) {
      auto c = store_.Client();
      if (!c.ok()) return c.status();
      session_ = *c;
      return *c;
    }
    if (!session_ || store_.client_.get() != session_ || session_->broken()) {
      return Status::Unavailable(
          fmt::format("{}: connection lost with {} APPEND commands in flight", store_.location(),
                      in_flight_.size()));
    }
    return session_;
  }

  static bool IsRefusal(const Status& s) {
    return s.code() == Status::Code::kConstraint || s.code() == Status::Code::kInvalidInput ||
           s.code() == Status::Code::kResourceExhausted;
  }

  static std::string CommandStart(ImapClient& client, const std::string& tag,
                                  const std::string& mailbox) {
    ImapCommand start(tag, "APPEND", client.Has("LITERAL+"));
    start.String(mailbox);
    return start.Text();
  }

  Status SendBuilding() {
    if (building_.items.empty()) return Status::Ok();
    Batch batch = std::move(building_);
    building_ = Batch();
    building_.folder = batch.folder;  // the next message is likely in the same folder
    building_.mailbox = batch.mailbox;
    return Send(std::move(batch));
  }

  // Sends a batch as one APPEND command (MULTIAPPEND when it holds several messages).
  Status Send(Batch batch) {
    auto c = Session(/*may_connect=*/true);
    if (!c.ok()) return c.status();
    ImapClient& client = **c;
    if (batch.items.size() > 1 && !client.Has("MULTIAPPEND")) return SendOneByOne(batch);
    batch.tag = client.NextTag();
    CM_RETURN_IF_ERROR(client.SendRaw(CommandStart(client, batch.tag, batch.mailbox)));
    for (const Item& item : batch.items) {
      bool nonsync = client.NonSynchronizing(item.size);
      CM_RETURN_IF_ERROR(
          client.SendRaw(AppendMessageHeader(item.flags, item.date, item.size, nonsync)));
      if (!nonsync) {
        Status s = client.WaitContinuation(batch.tag);
        if (!s.ok()) return Refused(batch, s);
      }
      CM_RETURN_IF_ERROR(
          client.SendRaw(std::string_view(batch.bytes).substr(item.offset, item.size)));
    }
    // The command is whole only with its last CRLF: without it the server appends nothing.
    if (Status may = MayCommit(); !may.ok()) return store_.Drop(may);
    CM_RETURN_IF_ERROR(client.SendRaw("\r\n"));
    CM_RETURN_IF_ERROR(client.Flush());  // the server can work on it while we read the source
    in_flight_.push_back(std::move(batch));
    in_flight_bytes_ += in_flight_.back().bytes.size();
    // At most `pipeline-depth` commands in flight, and two batches' worth of bytes kept for a
    // resend; what has come back meanwhile is collected.
    while (in_flight_.size() > static_cast<size_t>(std::max(1, access_.pipeline_depth)) ||
           (in_flight_.size() > 1 && in_flight_bytes_ > 2 * access_.batch_bytes)) {
      auto reaped = ReapOne(true);
      if (!reaped.ok()) return reaped.status();
    }
    return Reap(false);
  }

  Status SendOneByOne(const Batch& batch) {
    for (const Item& item : batch.items) {
      Batch one;
      one.folder = batch.folder;
      one.mailbox = batch.mailbox;
      one.created_folder = batch.created_folder;
      one.bytes = batch.bytes.substr(item.offset, item.size);
      one.items.push_back(item);
      one.items.back().offset = 0;
      CM_RETURN_IF_ERROR(Send(std::move(one)));
    }
    return Status::Ok();
  }

  // The server refused a batch: find out which message it minds.
  Status Refused(Batch& batch, const Status& why) {
    if (why.code() == Status::Code::kNotFound && !batch.created_folder && !batch.streamed) {
      // TRYCREATE: the folder went away (or never was): create it, send again once.
      CM_RETURN_IF_ERROR(store_.CreateFolder(batch.folder));
      batch.created_folder = true;
      return batch.items.size() > 1 ? SendOneByOne(batch) : Send(std::move(batch));
    }
    if (!IsRefusal(why) && why.code() != Status::Code::kNotFound) return why;
    if (batch.items.size() > 1 && why.code() != Status::Code::kResourceExhausted)
      return SendOneByOne(batch);
    for (const Item& item : batch.items) outcome_(item.seq, why);
    return Status::Ok();
  }

  Status Complete(Batch& batch, const ImapResponse& r) {
    if (r.status != "OK") {
      return Refused(batch, ImapFailure(r, fmt::format("{}: APPEND to {}", store_.location(),
                                                       batch.folder.Name())));
    }
    std::vector<uint32_t> uids;
    std::string uidvalidity;
    if (r.code == "APPENDUID") {
      size_t sp = r.code_argument.find(' ');
      if (sp != std::string::npos) {
        uidvalidity = r.code_argument.substr(0, sp);
        uids = ExpandUidSet(r.code_argument.substr(sp + 1));
      }
    }
    // Without UIDPLUS (or a set that does not fit) the keys are found by fingerprint later.
    bool named = uids.size() == batch.items.size();
    for (size_t k = 0; k < batch.items.size(); ++k) {
      outcome_(batch.items[k].seq,
               named ? fmt::format("{}.{}", uidvalidity, uids[k]) : std::string());
    }
    return Status::Ok();
  }

  // The oldest batch's outcomes: waiting for them, or only if they have come. True if reaped.
  Result<bool> ReapOne(bool wait) {
    auto c = Session(/*may_connect=*/false);
    if (!c.ok()) return c.status();
    if (!wait) {
      auto done = (*c)->Completed(in_flight_.front().tag);
      if (!done.ok()) return done.status();
      if (!*done) return false;
    }
    Batch batch = std::move(in_flight_.front());
    in_flight_.pop_front();
    in_flight_bytes_ -= batch.bytes.size();
    auto r = (*c)->Wait(batch.tag);
    if (!r.ok()) return r.status();
    CM_RETURN_IF_ERROR(Complete(batch, *r));
    return true;
  }

  // Collects outcomes, oldest first: every one (all), or those already answered.
  Status Reap(bool all) {
    while (!in_flight_.empty()) {
      auto reaped = ReapOne(all);
      if (!reaped.ok()) return reaped.status();
      if (!*reaped) break;
    }
    return Status::Ok();
  }

  ImapStore& store_;
  Outcome outcome_;
  const ImapAccess& access_;
  size_t next_seq_ = 0;
  std::optional<Item> current_;
  Batch building_;
  std::deque<Batch> in_flight_;
  size_t in_flight_bytes_ = 0;
  std::string streaming_tag_;
  uint64_t streamed_ = 0;
  ImapClient* session_ = nullptr;
  bool refused_stream_ = false;
};

Result<std::unique_ptr<MessageAppender>> ImapStore::OpenAppender(MessageAppender::Outcome outcome) {
  if (options_.read_only)
    return Status::Internal(fmt::format("{} is read-only (append)", location_));
  return std::unique_ptr<MessageAppender>(new ImapAppender(*this, std::move(outcome)));
}

namespace {

// One message through the pipelined appender: what BeginAppend callers (tests, tools) use.
class ImapWriter : public MessageWriter {
 public:
  static Result<std::unique_ptr<MessageWriter>> Open(ImapStore& store, const Folder& folder,
                                                     const MessageMeta& meta) {
    std::unique_ptr<ImapWriter> w(new ImapWriter());
    auto appender = store.OpenAppender(
        [w = w.get()](size_t, Result<std::string> key) { w->key_ = std::move(key); });
    if (!appender.ok()) return appender.status();
    w->appender_ = std::move(*appender);
    auto seq = w->appender_->Begin(folder, meta);
    if (!seq.ok()) return seq.status();
    return std::unique_ptr<MessageWriter>(std::move(w));
  }
  Status Write(std::string_view chunk) override { return appender_->Write(chunk); }
  Result<std::string> Commit() override {
    committed_ = true;
    CM_RETURN_IF_ERROR(appender_->End());
    CM_RETURN_IF_ERROR(appender_->Finish());
    return key_;
  }
  ~ImapWriter() override {
    if (appender_ && !committed_) appender_->Cancel();
  }

 private:
  ImapWriter() = default;
  std::unique_ptr<MessageAppender> appender_;
  Result<std::string> key_ = Status::Internal("not committed");
  bool committed_ = false;
};

}  // namespace

Result<std::unique_ptr<MessageWriter>> ImapStore::BeginAppend(const Folder& folder,
                                                              const MessageMeta& meta) {
  return ImapWriter::Open(*this, folder, meta);
}

}  // namespace cm
