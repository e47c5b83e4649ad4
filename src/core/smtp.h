// SMTP address, domain and Exchange name rules (SPEC §4).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

inline constexpr size_t kMaxAliasLength = 64;
inline constexpr size_t kMaxCnLength = 64;
inline constexpr size_t kMaxDisplayNameLength = 256;
inline constexpr size_t kMaxSamAccountNameLength = 20;

// RFC 5321 mailbox in the dot-atom form Exchange accepts: local part <= 64 octets of atext and
// single dots, domain per ValidateDomain, whole address <= 320 octets.
Status ValidateSmtpAddress(std::string_view address);
// LDH labels of 1-63 octets, at least two labels, <= 255 octets, no trailing dot.
Status ValidateDomain(std::string_view domain);
// Exchange alias (mailNickname): 1-64 characters of letters, digits and ! # $ % & ' * + - / = ?
// ^ _ ` { | } ~, with periods only between other valid characters.
Status ValidateAlias(std::string_view alias);
// The domain part, lower-cased ("" when there is no '@').
std::string DomainOf(std::string_view address);
// Picks the characters an alias may hold out of free text (for computed names), ASCII-folding
// common accented Latin letters (é -> e, ß -> ss) as Exchange's address policies do.
std::string AliasCharactersOf(std::string_view text);
// Drops periods at the ends and doubled ones, which dropped characters or empty template fields
// leave behind ("..john." -> "john").
std::string CollapsePeriods(std::string_view text);

}  // namespace cm
