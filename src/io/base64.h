// Base64 (RFC 4648) through OpenSSL, for binary attribute values in JSON, CSV and the journal.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace cm
