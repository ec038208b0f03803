"""Small pieces every dialog of the studio shares."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QVBoxLayout,
)


def ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    """OK and Cancel buttons wired to the dialog's accept and reject."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class ChecklistDialog(QDialog):
    """A question answered by ticking items of a list (all ticked to start): ``chosen()``."""

    def __init__(self, title: str, text: str, items: list[tuple[str, str]], parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.list = QListWidget(self)
        for key, label in items:
            self.list.addItem(label)
            item = self.list.item(self.list.count() - 1)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
        layout = QVBoxLayout(self)
        words = QLabel(text, self)
        words.setWordWrap(True)
        layout.addWidget(words)
        layout.addWidget(self.list)
        layout.addWidget(ok_cancel(self))

    def chosen(self) -> list[str]:
        items = (self.list.item(i) for i in range(self.list.count()))
        return [i.data(Qt.ItemDataRole.UserRole) for i in items
                if i.checkState() == Qt.CheckState.Checked]  # fmt: skip


class MessageLog(QDialog):
    """View → Message Log: every status-bar message of this session with its time, whole
    (wrapped; a message the status bar cut short reads here), newest last; it follows while
    open."""

    def __init__(self, messages: list[tuple[str, str]], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Message Log")
        self.text = QPlainTextEdit(self, readOnly=True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.setPlaceholderText("No messages yet.")
        for when, text in messages:
            self.add(when, text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(560, 320)

    def add(self, when: str, text: str) -> None:
        self.text.appendPlainText(f"{when}  {text}")
