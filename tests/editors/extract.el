;;; extract.el --- Emacs 28 + Eglot 1.9 in batch: the Extract code action, as a user runs it  -*- lexical-binding: t -*-
;; emacs --batch -Q -L <eglot> -l extract.el: starts metaflow-lsp through `eglot-server-programs', opens the flow,
;; waits for its diagnostics (Flymake), lists the code actions on the long step, runs the Extract one with
;; `eglot-code-actions' (the user's command, the kind given so that no menu is shown), waits for common.py to be
;; filled, saves all buffers and exits.  What happened goes to $MFLSP_RESULT as JSON for tests/test_editors.py.
;; $MFLSP_SERVER (the `metaflow-lsp' console script: Eglot always starts the server in the project's folder, which
;; the console script keeps off sys.path, see docs/dev/security.md), $MFLSP_FLOW, $MFLSP_LINE (0-based line of the
;; step), $MFLSP_TIMEOUT (seconds per wait).
(require 'eglot)
(require 'json)

(defvar mflsp-result (list (cons 'messages nil)))
(defvar mflsp-timeout (string-to-number (getenv "MFLSP_TIMEOUT")))

(defun mflsp-note (key value) (setf (alist-get key mflsp-result) value))

(defun mflsp-finish (error-message)
  (mflsp-note 'error error-message)
  (with-temp-file (getenv "MFLSP_RESULT") (insert (json-encode mflsp-result)))
  (kill-emacs (if error-message 1 0)))

(defun mflsp-wait-for (what condition)
  (let ((deadline (+ (float-time) mflsp-timeout)))
    (while (not (funcall condition))
      (when (> (float-time) deadline) (mflsp-finish (format "timed out waiting for %s" what)))
      (accept-process-output nil 0.05))))

;; Eglot asks before editing a file no buffer visits (common.py): the user answers yes.
(fset 'y-or-n-p (lambda (prompt) (push prompt (alist-get 'prompts mflsp-result)) t))
(advice-add 'eglot--message :before
            (lambda (format &rest args) (push (apply #'format format args) (alist-get 'messages mflsp-result))))

(condition-case failure
    (let* ((flow (getenv "MFLSP_FLOW"))
           (common (expand-file-name "common.py" (file-name-directory flow))))
      (add-to-list 'eglot-server-programs `(python-mode . (,(getenv "MFLSP_SERVER") "serve")))
      (find-file flow)
      (apply #'eglot (eglot--guess-contact))
      (mflsp-wait-for "the server" (lambda () (let ((server (eglot-current-server)))
                                                (and server (jsonrpc-running-p server)
                                                     (eglot--server-capable :codeActionProvider)))))
      (flymake-start)  ; interactively the first command starts it; in batch no command runs
      (mflsp-wait-for "diagnostics" (lambda () (flymake-diagnostics)))
      (mflsp-note 'diagnostics (mapcar (lambda (d) (flymake-diagnostic-text d)) (flymake-diagnostics)))
      (goto-char (point-min))
      (forward-line (string-to-number (getenv "MFLSP_LINE")))
      (forward-char 8)
      (mflsp-note 'titles (mapcar (lambda (action) (plist-get action :title)) (eglot-code-actions (point))))
      (eglot-code-actions (point) nil "refactor.extract" t)
      (mflsp-wait-for "the edit of common.py"
                      (lambda () (let ((buffer (find-buffer-visiting common)))
                                   (and buffer (with-current-buffer buffer
                                                 (save-excursion (goto-char (point-min))
                                                                 (search-forward "def " nil t)))))))
      (save-some-buffers t)
      (mflsp-finish nil))
  (error (mflsp-finish (error-message-string failure))))
