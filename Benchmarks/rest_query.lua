-- wrk script for Benchmarks/run_rest.sh: POSTs query bodies to
-- /collections/<collection>/points/query, round-robin over a file with one JSON
-- body per line. Usage: wrk ... -s rest_query.lua <url> -- <bodies.jsonl> <collection>
local bodies = {}
local path = "/collections/rest/points/query"
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  if args[2] then path = "/collections/" .. args[2] .. "/points/query" end
  counter = math.random(#bodies)
end

function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
end
