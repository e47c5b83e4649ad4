#include "mailstore/mail_store.h"

#include <fmt/format.h>

#include "core/strings.h"
#include "mailstore/maildir_store.h"

namespace cm {

std::string_view ToString(SpecialUse use) {
  switch (use) {
    case SpecialUse::kNone:
      return "";
    case SpecialUse::kSent:
      return "\\Sent";
    case SpecialUse::kDrafts:
      return "\\Drafts";
    case SpecialUse::kTrash:
      return "\\Trash";
    case SpecialUse::kJunk:
      return "\\Junk";
    case SpecialUse::kArchive:
      return "\\Archive";
  }
  return "";
}

std::string Folder::Name() const { return Join(path, "/"); }

bool Folder::IsInbox() const { return path.size() == 1 && IEquals(path[0], "INBOX"); }

SpecialUse SpecialUseOfName(std::string_view name) {
  static const struct {
    std::string_view name;
    SpecialUse use;
  } kNames[] = {
      {"Sent", SpecialUse::kSent},           {"Sent Items", SpecialUse::kSent},
      {"Sent Messages", SpecialUse::kSent},  {"Sent Mail", SpecialUse::kSent},
      {"Drafts", SpecialUse::kDrafts},       {"Trash", SpecialUse::kTrash},
      {"Deleted Items", SpecialUse::kTrash}, {"Deleted Messages", SpecialUse::kTrash},
      {"Junk", SpecialUse::kJunk},           {"Junk E-mail", SpecialUse::kJunk},
      {"Junk Email", SpecialUse::kJunk},     {"Spam", SpecialUse::kJunk},
      {"Archive", SpecialUse::kArchive},     {"Archives", SpecialUse::kArchive},
  };
  for (const auto& n : kNames) {
    if (IEquals(n.name, name)) return n.use;
  }
  return SpecialUse::kNone;
}

Result<std::string> ExpandStoreLocation(std::string_view tmpl, std::string_view address,
                                        std::string_view alias) {
  size_t at = address.rfind('@');
  std::string local(address.substr(0, at)),
      domain = at == std::string_view::npos ? "" : AsciiLower(address.substr(at + 1));
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '%' || i + 1 >= tmpl.size()) {
      out += tmpl[i];
      continue;
    }
    char c = tmpl[++i];
    std::string value;
    switch (c) {
      case 'u':
        value = AsciiLower(address);
        break;
      case 'n':
        value = AsciiLower(local);
        break;
      case 'd':
        value = domain;
        break;
      case 'm':
        value = std::string(alias);
        break;
      case '%':
        value = "%";
        break;
      default:
        return Status::InvalidInput(
            fmt::format("store location '{}': unknown placeholder '%{}'", tmpl, c));
    }
    // A value must not climb out of the store's directory.
    if (value.find('/') != std::string::npos || value == ".." || value == ".") {
      return Status::InvalidInput(
          fmt::format("store location '{}': '{}' cannot be part of a path", tmpl, value));
    }
    out += value;
  }
  return out;
}

Result<std::unique_ptr<MailStore>> OpenMailStore(std::string_view location,
                                                 const MailStoreOptions& options) {
  if (IStartsWith(location, "maildir:")) {
    std::string path(location.substr(8));
    if (path.empty())
      return Status::InvalidInput(fmt::format("mail store '{}' has no path", location));
    return std::unique_ptr<MailStore>(new MaildirStore(path, options));
  }
  if (IStartsWith(location, "imap://") || IStartsWith(location, "imaps://")) {
    return Status::Unavailable(
        fmt::format("mail store '{}': the IMAP driver is not built yet (maildir: only)", location));
  }
  return Status::InvalidInput(
      fmt::format("mail store '{}': unknown scheme (expected maildir: or imap://)", location));
}

}  // namespace cm
