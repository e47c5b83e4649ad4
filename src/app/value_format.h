// How attribute values are shown to people and in JSON/CSV: text as is, GUIDs in AD's text
// form, other binary values as base64 (so an export never holds raw bytes).
#pragma once

#include <string>
#include <string_view>

namespace cm {

std::string DisplayValue(std::string_view attribute, std::string_view value);

}  // namespace cm
