-- Neovim 0.7 (`nvim --headless -u NONE -S extract.lua`): starts metaflow-lsp with the built-in client, opens the
-- flow, waits for its diagnostics, asks for code actions on the long step through `vim.lsp.buf.code_action` (the
-- user's command; the menu is answered by picking the Extract action), waits for common.py to be filled, writes all
-- buffers and quits. What happened goes to $MFLSP_RESULT as JSON for tests/test_editors.py.
-- $MFLSP_PYTHON, $MFLSP_CWD (the server's working folder: not the workspace), $MFLSP_FLOW, $MFLSP_LINE (0-based
-- line of the step), $MFLSP_TIMEOUT (seconds per wait).
local env = vim.env
local timeout = tonumber(env.MFLSP_TIMEOUT) * 1000
local result = { messages = {}, titles = {} }

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

vim.notify = function(message) table.insert(result.messages, tostring(message)) end

vim.cmd("edit " .. vim.fn.fnameescape(env.MFLSP_FLOW))
local flow = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = "metaflow-lsp",
  cmd = { env.MFLSP_PYTHON, "-m", "metaflow_lsp" },
  cmd_cwd = env.MFLSP_CWD,
  root_dir = vim.fn.fnamemodify(env.MFLSP_FLOW, ":h"),
  handlers = {
    ["window/showMessage"] = function(_, params) table.insert(result.messages, params.message) end,
  },
})
if not client_id then finish("the client did not start") end
vim.lsp.buf_attach_client(flow, client_id)

wait_for("diagnostics", function() return #vim.diagnostic.get(flow) > 0 end)
result.diagnostics = {}
for _, diagnostic in ipairs(vim.diagnostic.get(flow)) do
  table.insert(result.diagnostics, { code = diagnostic.code, line = diagnostic.lnum })
end

vim.ui.select = function(items, _, on_choice)
  for _, item in ipairs(items) do table.insert(result.titles, item[2].title) end
  for index, item in ipairs(items) do
    if item[2].title:match("^Extract") then
      result.chosen = item[2].title
      return on_choice(item, index)
    end
  end
  on_choice(nil, nil)
end
vim.api.nvim_win_set_cursor(0, { tonumber(env.MFLSP_LINE) + 1, 8 })
vim.lsp.buf.code_action()
wait_for("the code action menu", function() return #result.titles > 0 end)
if not result.chosen then finish("no Extract action") end

local common = vim.fn.fnamemodify(env.MFLSP_FLOW, ":h") .. "/common.py"
wait_for("the edit of common.py", function()
  local buffer = vim.fn.bufnr(common)
  return buffer ~= -1 and vim.api.nvim_buf_is_loaded(buffer)
    and table.concat(vim.api.nvim_buf_get_lines(buffer, 0, -1, false), "\n"):find("def ") ~= nil
end)
vim.cmd("silent wall")
finish(nil)
