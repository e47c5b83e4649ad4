// Secrets for binding to a directory or a mail store. They come from a file of mode 0600, an
// environment variable, or a prompt — never from argv, where every local user can read them
// (SPEC §2). A Secret's text is never formatted into a message.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

struct Secret {
  std::string text;
  std::string source;  // "file /root/src.secret", "environment SRC_PW", "prompt" (for messages)
};

// spec: `file:PATH` (first line; the file must not be readable by group or others),
// `env:NAME`, or `prompt`. `what` names the setting in errors ("source.credential").
Result<Secret> LoadSecret(std::string_view spec, std::string_view what);

// `file:PATH` of "name:secret" lines (blank lines and '#' comments skipped; the first ':'
// separates, so a secret may hold ':'), under the same mode rule: per-user mailbox passwords.
// A malformed line is named by its number, never by its text.
Result<std::map<std::string, std::string>> LoadSecretTable(std::string_view spec,
                                                           std::string_view what);

}  // namespace cm
