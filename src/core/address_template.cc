#include "core/address_template.h"

#include <fmt/format.h>

#include "core/smtp.h"
#include "core/strings.h"

namespace cm {

namespace {

Result<std::string> ExpandLocal(std::string_view tmpl, const TemplateFields* fields) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '%') {
      out += tmpl[i];
      continue;
    }
    if (++i >= tmpl.size())
      return Status::InvalidInput(fmt::format("address template '{}' ends with '%'", tmpl));
    if (tmpl[i] == '%') {
      out += '%';
      continue;
    }
    size_t count = 0;
    bool has_count = false;
    while (i < tmpl.size() && tmpl[i] >= '0' && tmpl[i] <= '9') {
      count = count * 10 + static_cast<size_t>(tmpl[i] - '0');
      has_count = true;
      if (count > 256)
        return Status::InvalidInput(fmt::format("address template '{}': length too large", tmpl));
      ++i;
    }
    if (i >= tmpl.size())
      return Status::InvalidInput(
          fmt::format("address template '{}' ends inside a placeholder", tmpl));
    std::string value;
    switch (tmpl[i]) {
      case 'm':
        value = fields ? fields->alias : "x";
        break;
      case 'g':
        value = fields ? fields->given_name : "x";
        break;
      case 's':
        value = fields ? fields->surname : "x";
        break;
      case 'd':
        value = fields ? fields->display_name : "x";
        break;
      case 'i':
        value = fields ? fields->initials : "x";
        break;
      default:
        return Status::InvalidInput(
            fmt::format("address template '{}': unknown placeholder '%{}' (use %m, %g, %s, %d, %i)",
                        tmpl, tmpl[i]));
    }
    value = AliasCharactersOf(value);
    if (has_count) value = value.substr(0, count);
    out += value;
  }
  return out;
}

}  // namespace

Status ValidateAddressTemplate(std::string_view tmpl) {
  size_t at = tmpl.find('@');
  auto local = ExpandLocal(tmpl.substr(0, at), nullptr);
  if (!local.ok()) return local.status();
  if (at != std::string_view::npos) {
    return ValidateDomain(tmpl.substr(at + 1)).Annotate(fmt::format("address template '{}'", tmpl));
  }
  return Status::Ok();
}

Result<std::string> ExpandAddressTemplate(std::string_view tmpl, const TemplateFields& fields,
                                          std::string_view default_domain) {
  size_t at = tmpl.find('@');
  auto local = ExpandLocal(tmpl.substr(0, at), &fields);
  if (!local.ok()) return local.status();
  std::string cleaned = CollapsePeriods(*local);  // `%g.%s` with no given name
  if (cleaned.empty()) {
    return Status::InvalidInput(fmt::format(
        "address template '{}' gives an empty local part for alias '{}'", tmpl, fields.alias));
  }
  std::string domain =
      at == std::string_view::npos ? std::string(default_domain) : std::string(tmpl.substr(at + 1));
  std::string address = cleaned + "@" + domain;
  CM_RETURN_IF_ERROR(ValidateSmtpAddress(address));
  return address;
}

}  // namespace cm
