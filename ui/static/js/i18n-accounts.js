// Texts of the account pages (修改密码, 用户管理, 单位管理, 批量导入账号),
// merged into i18n.js's dictionaries.
export const zhAccounts = {
  navPassword: '修改密码', navUsers: '用户管理', navUnits: '单位管理',
  // password
  pwTitle: '修改密码', pwLead: '修改后，您在其他设备上的登录将全部失效。', pwCurrent: '当前密码', pwInitial: '初始密码（管理员提供的密码）',
  pwNew: '新密码', pwNewHint: '至少 8 个字符，不能与当前密码相同。', pwAgain: '再次输入新密码', pwSubmit: '修改密码',
  pwMismatch: '两次输入的新密码不一致', pwChanged: '密码已修改。',
  pwForced: '您的密码是管理员设置的初始密码。为了账号安全，请先设置您自己的密码，然后才能使用系统。',
  // users
  usersTitle: '用户管理', usersLead: '{unit}及下级单位的账号：新增、修改、停用、解锁、重置密码。', importUsers: '批量导入账号',
  uName: '姓名 / 用户名', uUnit: '单位', uRoles: '角色', uStatus: '状态', uActions: '操作', uRole: '角色',
  uStatus_active: '启用', uStatus_disabled: '停用', uStatus_locked: '锁定',
  uSearch: '搜索', uSearchHint: '姓名或用户名的一部分', uUnitSubtree: '单位（含下级）', unitPickerHint: '输入单位名称或代码',
  noUsers: '没有符合条件的账号。', userCreate: '新增账号', userCreateSubmit: '新增账号', usernameHint: '2–64 位字母、数字、点、下划线或连字符；不区分大小写。',
  uDisplayName: '姓名', uEmail: '邮箱', uMobile: '手机',
  userCreated: '已新增账号：{name}', secretFor: '{user} 的初始密码：', secretOnce: '此密码只显示这一次，请现在抄下或告知本人；对方首次登录后须修改密码。',
  secretHide: '我已记下，隐藏', edit: '编辑', uEnable: '启用', uDisable: '停用', uUnlock: '解锁', uReset: '重置密码',
  uEnabled: '已启用 {name}', uDisabled: '已停用 {name}，其登录已失效', uDisableConfirm: '停用 {name} 的账号？停用后其无法登录，正在使用的登录立即失效。',
  uUnlocked: '已解锁 {name}', uResetConfirm: '重置 {name} 的密码？将生成新的初始密码，其正在使用的登录立即失效。',
  uResetDone: '已重置 {name} 的密码', uMustChange: '待修改初始密码', uLockedUntil: '锁定至 {at}',
  userEdit: '编辑账号：{name}（{user}）', userSaved: '已保存 {name}',
};

export const enAccounts = {
  navPassword: 'Password', navUsers: 'Users', navUnits: 'Units',
  pwTitle: 'Change password', pwLead: 'Signing in elsewhere ends when you change it.', pwCurrent: 'Current password', pwInitial: 'Initial password (from your administrator)',
  pwNew: 'New password', pwNewHint: 'At least 8 characters, not the current one.', pwAgain: 'New password again', pwSubmit: 'Change password',
  pwMismatch: 'The two new passwords differ', pwChanged: 'Password changed.',
  pwForced: 'Your password was set by an administrator. Choose your own before using the system.',
  usersTitle: 'Users', usersLead: 'Accounts of {unit} and the units below: add, change, disable, unlock, reset passwords.', importUsers: 'Import accounts',
  uName: 'Name / username', uUnit: 'Unit', uRoles: 'Roles', uStatus: 'Status', uActions: 'Actions', uRole: 'Role',
  uStatus_active: 'Enabled', uStatus_disabled: 'Disabled', uStatus_locked: 'Locked',
  uSearch: 'Search', uSearchHint: 'Part of a name or username', uUnitSubtree: 'Unit (and below)', unitPickerHint: 'Unit name or code',
  noUsers: 'No accounts match.', userCreate: 'Add an account', userCreateSubmit: 'Add account', usernameHint: '2–64 letters, digits, dots, underscores or hyphens; case does not matter.',
  uDisplayName: 'Name', uEmail: 'Email', uMobile: 'Mobile',
  userCreated: 'Account added: {name}', secretFor: 'Initial password of {user}:', secretOnce: 'Shown this once: note it or tell the person now; they change it on first sign-in.',
  secretHide: 'Noted, hide it', edit: 'Edit', uEnable: 'Enable', uDisable: 'Disable', uUnlock: 'Unlock', uReset: 'Reset password',
  uEnabled: '{name} enabled', uDisabled: '{name} disabled and signed out', uDisableConfirm: 'Disable the account of {name}? They can no longer sign in, and their sessions end now.',
  uUnlocked: '{name} unlocked', uResetConfirm: 'Reset the password of {name}? A new initial password is generated and their sessions end now.',
  uResetDone: 'Password of {name} reset', uMustChange: 'Initial password not yet changed', uLockedUntil: 'Locked until {at}',
  userEdit: 'Edit account: {name} ({user})', userSaved: '{name} saved',
};
