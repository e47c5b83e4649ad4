// E-mail address templates as Exchange address policies write them: `%m` alias, `%g` given
// name, `%s` surname, `%d` display name, `%i` initials, `%Ng` first N characters, `%%` a percent.
// A template without '@' gets `@<default domain>` appended.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

struct TemplateFields {
  std::string alias;
  std::string given_name;
  std::string surname;
  std::string display_name;
  std::string initials;
};

// Expands the template and validates the result as an SMTP address. Characters an address
// cannot hold (spaces, quotes, most non-ASCII) are dropped; accented Latin letters are folded.
Result<std::string> ExpandAddressTemplate(std::string_view tmpl, const TemplateFields& fields,
                                          std::string_view default_domain);

// Checks the template's syntax without fields (for pre-validation).
Status ValidateAddressTemplate(std::string_view tmpl);

}  // namespace cm
