// Texts of the account pages (修改密码, 用户管理, 单位管理, 批量导入账号),
// merged into i18n.js's dictionaries.
export const zhAccounts = {
  navPassword: '修改密码', navUsers: '用户管理', navUnits: '单位管理',
  // password
  pwTitle: '修改密码', pwLead: '修改后，您在其他设备上的登录将全部失效。', pwCurrent: '当前密码', pwInitial: '初始密码（管理员提供的密码）',
  pwNew: '新密码', pwNewHint: '至少 8 个字符，不能与当前密码相同。', pwAgain: '再次输入新密码', pwSubmit: '修改密码',
  pwMismatch: '两次输入的新密码不一致', pwChanged: '密码已修改。',
  pwForced: '您的密码是管理员设置的初始密码。为了账号安全，请先设置您自己的密码，然后才能使用系统。',
};

export const enAccounts = {
  navPassword: 'Password', navUsers: 'Users', navUnits: 'Units',
  pwTitle: 'Change password', pwLead: 'Signing in elsewhere ends when you change it.', pwCurrent: 'Current password', pwInitial: 'Initial password (from your administrator)',
  pwNew: 'New password', pwNewHint: 'At least 8 characters, not the current one.', pwAgain: 'New password again', pwSubmit: 'Change password',
  pwMismatch: 'The two new passwords differ', pwChanged: 'Password changed.',
  pwForced: 'Your password was set by an administrator. Choose your own before using the system.',
};
