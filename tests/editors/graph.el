;;; graph.el --- Emacs 28 + Eglot 1.9 in batch: the README's call of metaflow.flowGraph  -*- lexical-binding: t -*-
;; emacs --batch -Q -L <eglot> -l graph.el: starts metaflow-lsp through `eglot-server-programs' as the README says,
;; opens the flow, evaluates the README's expression ($MFLSP_SNIPPET) and writes the flows' step names to
;; $MFLSP_RESULT as JSON for tests/test_graph_editors.py.  $MFLSP_SERVER (the `metaflow-lsp' console script),
;; $MFLSP_FLOW, $MFLSP_TIMEOUT (seconds per wait).
(require 'eglot)
(require 'json)

(defvar mflsp-result (list (cons 'messages nil)))
(defvar mflsp-timeout (string-to-number (getenv "MFLSP_TIMEOUT")))

(defun mflsp-finish (error-message)
  (setf (alist-get 'error mflsp-result) error-message)
  (with-temp-file (getenv "MFLSP_RESULT") (insert (json-encode mflsp-result)))
  (kill-emacs (if error-message 1 0)))

(defun mflsp-wait-for (what condition)
  (let ((deadline (+ (float-time) mflsp-timeout)))
    (while (not (funcall condition))
      (when (> (float-time) deadline) (mflsp-finish (format "timed out waiting for %s" what)))
      (accept-process-output nil 0.05))))

(condition-case failure
    (let ((snippet (with-temp-buffer (insert-file-contents (getenv "MFLSP_SNIPPET")) (buffer-string))))
      (add-to-list 'eglot-server-programs `(python-mode . (,(getenv "MFLSP_SERVER") "serve")))
      (find-file (getenv "MFLSP_FLOW"))
      (apply #'eglot (eglot--guess-contact))
      (mflsp-wait-for "the server" (lambda () (let ((server (eglot-current-server)))
                                                (and server (jsonrpc-running-p server)
                                                     (eglot--server-capable :executeCommandProvider)))))
      (let ((graph (eval (car (read-from-string snippet)) t)))
        (setf (alist-get 'flows mflsp-result)
              (mapcar (lambda (flow)
                        (list (cons 'name (plist-get flow :name))
                              (cons 'steps (mapcar (lambda (step) (plist-get step :name))
                                                   (plist-get flow :steps)))))
                      (plist-get graph :flows))))
      ;; Politely: the server's own requests after start-up (configuration, registrations) are then answered
      ;; while it runs, not replied to by a dying Emacs (an error at exit).
      (eglot-shutdown (eglot-current-server) nil mflsp-timeout)
      (mflsp-finish nil))
  (error (mflsp-finish (format "%S" failure))))
