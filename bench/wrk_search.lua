-- Searches, picking among the request paths listed in $URLS_FILE (one "/fhir/..." per line).
local urls = {}
for line in io.lines(os.getenv("URLS_FILE")) do urls[#urls + 1] = line end
local token = os.getenv("TOKEN")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", urls[math.random(#urls)], { ["Authorization"] = "Bearer " .. token,
                                                       ["Accept"] = "application/fhir+json" })
end
