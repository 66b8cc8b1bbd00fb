-- Reads by id, picking among the ids listed in $IDS_FILE (one "Type/id" per line).
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local token = os.getenv("TOKEN")
math.randomseed(os.time())
request = function()
  local path = "/fhir/" .. ids[math.random(#ids)]
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token,
                                   ["Accept"] = "application/fhir+json" })
end
