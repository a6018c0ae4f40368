(* LayerNorm as a smooth pre-activation (THEORY.md section 3, tau_k C1;
   issue 18, item 3), for a layer of width 2: with eps > 0,
   (z_a - mean) / sqrt(var + eps), mean and var over (z_a, z_b), is the C1
   function phi((z_a - z_b) / 2) with phi(s) = s / sqrt(s^2 + eps), given
   with its gradient phi'((z_a - z_b)/2) (e_a - e_b)/2.  Built from the
   general pattern "a C1 function of one variable after a linear form"
   ([c1_comp_linear]). *)
From Coq Require Import Reals Lra Lia List.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet Activation Network SelectLocal C1Output SmoothTau BatchNormTrain.
Open Scope R_scope.

Section CompLinear.
Variables (W N : nat) (c : vec) (psi dpsi : R -> R).
Hypothesis Hd : forall x, is_derive psi x (dpsi x).
Hypothesis Hc : forall x, continuity_pt dpsi x.

Lemma c1_comp_linear_diff u :
  differentiable_at (W + N) (fun u => psi (dot (W + N) c u)) u (vscale (dpsi (dot (W + N) c u)) c).
Proof.
  apply (differentiable_at_comp_is_derive (W + N) psi (fun v => dot (W + N) c v) u c _ (Hd _)).
  apply differentiable_at_dot.
Qed.

Lemma c1_comp_linear_cont u i :
  continuous_at (W + N) (fun u' => vscale (dpsi (dot (W + N) c u')) c i) u.
Proof.
  unfold vscale; apply (continuous_at_mult _ (fun u' => dpsi (dot (W + N) c u')) (fun _ => c i)).
  - apply (continuous_at_comp _ dpsi (fun v => dot (W + N) c v)); [apply Hc|].
    exact (differentiable_continuous _ _ _ _ (differentiable_at_dot (W + N) c u)).
  - apply continuous_at_const.
Qed.

(* u -> psi(c . u) *)
Definition c1_comp_linear : c1_output W N :=
  mk_c1_output W N (fun u => psi (dot (W + N) c u)) (fun u => vscale (dpsi (dot (W + N) c u)) c)
    c1_comp_linear_diff c1_comp_linear_cont.

End CompLinear.

Section LayerNorm2.
Variables (eps : R) (W N a b : nat).
Hypothesis Heps : 0 < eps.
Hypothesis Ha : (a < N)%nat.
Hypothesis Hb : (b < N)%nat.

(* the layer's values z_a, z_b sit at W + a, W + b of the packed (w, z) *)
Definition ln2_coef : vec := fun i =>
  (if Nat.eq_dec i (W + a) then 1 / 2 else 0) - (if Nat.eq_dec i (W + b) then 1 / 2 else 0).

Definition layernorm2 : c1_output W N :=
  c1_comp_linear W N ln2_coef (bn_phi eps) (bn_dphi eps) (bn_phi_derive eps Heps) (bn_dphi_cont eps Heps).

(* LayerNorm of (z_a, z_b), coordinate a *)
Definition ln2_formula (za zb : R) : R :=
  let m := (za + zb) / 2 in
  let v := ((za - m) * (za - m) + (zb - m) * (zb - m)) / 2 in
  (za - m) / sqrt (v + eps).

Lemma dot_onehot n i c u : (i < n)%nat -> dot n (fun k => if Nat.eq_dec k i then c else 0) u = c * u i.
Proof.
  induction n as [|n IH]; intros Hi; [lia|]; rewrite dot_S.
  destruct (Nat.eq_dec n i) as [->|Hne].
  - rewrite (dot_ext i _ vzero u u); [rewrite dot_vzero_l; ring| |reflexivity].
    intros k Hk; destruct (Nat.eq_dec k i); [lia | reflexivity].
  - rewrite IH by lia; ring.
Qed.

Lemma dot_ln2_coef u : dot (W + N) ln2_coef u = (u (W + a)%nat - u (W + b)%nat) / 2.
Proof.
  rewrite (dot_ext (W + N) ln2_coef
             (vadd (fun k => if Nat.eq_dec k (W + a) then 1 / 2 else 0)
                   (vscale (-1) (fun k => if Nat.eq_dec k (W + b) then 1 / 2 else 0))) u u);
    [|intros k _; unfold ln2_coef, vadd, vscale; ring | reflexivity].
  rewrite dot_vadd_l, dot_vscale_l, !dot_onehot by lia; field.
Qed.

Theorem layernorm2_eval u : c1_g layernorm2 u = ln2_formula (u (W + a)%nat) (u (W + b)%nat).
Proof.
  unfold layernorm2; simpl; rewrite dot_ln2_coef.
  unfold ln2_formula, bn_phi; cbv zeta.
  set (za := u (W + a)%nat); set (zb := u (W + b)%nat).
  replace (za - (za + zb) / 2) with ((za - zb) / 2) by field.
  replace (zb - (za + zb) / 2) with (- ((za - zb) / 2)) by field.
  replace (((za - zb) / 2 * ((za - zb) / 2) + - ((za - zb) / 2) * - ((za - zb) / 2)) / 2)
    with ((za - zb) / 2 * ((za - zb) / 2)) by field.
  reflexivity.
Qed.

Theorem layernorm2_grad u :
  c1_dg layernorm2 u = vscale (bn_dphi eps ((u (W + a)%nat - u (W + b)%nat) / 2)) ln2_coef.
Proof. unfold layernorm2; simpl; rewrite dot_ln2_coef; reflexivity. Qed.

Theorem layernorm2_spec u :
  c1_g layernorm2 u = ln2_formula (u (W + a)%nat) (u (W + b)%nat) /\
  c1_dg layernorm2 u = vscale (bn_dphi eps ((u (W + a)%nat - u (W + b)%nat) / 2)) ln2_coef.
Proof. split; [apply layernorm2_eval | apply layernorm2_grad]. Qed.

End LayerNorm2.
