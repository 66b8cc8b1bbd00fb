-- Creates Observations for patients listed in $IDS_FILE ("Patient/id" lines).
local patients = {}
for line in io.lines(os.getenv("IDS_FILE")) do patients[#patients + 1] = line end
local token = os.getenv("TOKEN")
math.randomseed(os.time())
request = function()
  local body = '{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":' ..
    '"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],' ..
    '"code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},' ..
    '"subject":{"reference":"' .. patients[math.random(#patients)] .. '"},' ..
    '"effectiveDateTime":"2026-10-02T09:30:00+02:00",' ..
    '"valueQuantity":{"value":' .. math.random(40, 120) .. '.5,"unit":"kg",' ..
    '"system":"http://unitsofmeasure.org","code":"kg"}}'
  return wrk.format("POST", "/fhir/Observation", { ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/fhir+json", ["Prefer"] = "return=minimal" }, body)
end
