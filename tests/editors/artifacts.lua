-- Neovim 0.7 (`nvim --headless -u NONE -S artifacts.lua`): starts metaflow-lsp with the built-in client, opens the
-- flow, waits for its diagnostics (the server is then up), asks for the hover at $MFLSP_LINE:$MFLSP_CHARACTER
-- (0-based, UTF-16) as `vim.lsp.buf.hover` does, then types `$MFLSP_TYPED` on a new line below $MFLSP_INSERT_AFTER
-- and asks for completion at its end as omnifunc does. Both go through `vim.lsp.buf_request_sync`. What happened
-- goes to $MFLSP_RESULT as JSON for tests/test_editors.py.
-- $MFLSP_PYTHON, $MFLSP_CWD (the server's working folder: not the workspace), $MFLSP_FLOW, $MFLSP_TIMEOUT (seconds
-- per wait).
local env = vim.env
local timeout = tonumber(env.MFLSP_TIMEOUT) * 1000
local result = { messages = {} }

local function finish(error_message)
  result.error = error_message
  local out = assert(io.open(env.MFLSP_RESULT, "w"))
  out:write(vim.fn.json_encode(result))
  out:close()
  vim.cmd(error_message and "cquit!" or "qall!")
end

local function wait_for(what, condition)
  if not vim.wait(timeout, condition, 50) then
    finish("timed out waiting for " .. what)
  end
end

-- The one answer of our client to a request, or the error that came instead.
local function request(buffer, method, params)
  local answers, failure = vim.lsp.buf_request_sync(buffer, method, params, timeout)
  if not answers then finish(method .. " failed: " .. tostring(failure)) end
  for _, answer in pairs(answers) do
    if answer.error then finish(method .. " failed: " .. vim.inspect(answer.error)) end
    return answer.result
  end
  finish("no answer to " .. method)
end

vim.notify = function(message) table.insert(result.messages, tostring(message)) end

vim.cmd("edit " .. vim.fn.fnameescape(env.MFLSP_FLOW))
local flow = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = "metaflow-lsp",
  cmd = { env.MFLSP_PYTHON, "-m", "metaflow_lsp" },
  cmd_cwd = env.MFLSP_CWD,
  root_dir = vim.fn.fnamemodify(env.MFLSP_FLOW, ":h"),
  flags = { debounce_text_changes = 0 },
  handlers = {
    ["window/showMessage"] = function(_, params) table.insert(result.messages, params.message) end,
  },
})
if not client_id then finish("the client did not start") end
vim.lsp.buf_attach_client(flow, client_id)
wait_for("diagnostics", function() return #vim.diagnostic.get(flow) > 0 end)

local uri = vim.uri_from_bufnr(flow)
local hover = request(flow, "textDocument/hover", {
  textDocument = { uri = uri },
  position = { line = tonumber(env.MFLSP_LINE), character = tonumber(env.MFLSP_CHARACTER) },
})
result.hover = hover and hover.contents and hover.contents.value or vim.NIL

-- Typing: a new line below $MFLSP_INSERT_AFTER (1-based), sent to the server as didChange.
local after = tonumber(env.MFLSP_INSERT_AFTER)
vim.api.nvim_buf_set_lines(flow, after, after, false, { env.MFLSP_TYPED })
local completion = request(flow, "textDocument/completion", {
  textDocument = { uri = uri },
  position = { line = after, character = #env.MFLSP_TYPED },
  context = { triggerKind = 2, triggerCharacter = "." },
})
result.completion = {}
for _, item in ipairs(completion and (completion.items or completion) or {}) do
  table.insert(result.completion, { label = item.label, detail = item.detail or vim.NIL })
end
finish(nil)
