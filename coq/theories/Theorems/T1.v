(* T1 of THEORY.md section 5 (AD is correct wherever the network is
   differentiable): for bias networks, if f is differentiable at w with
   gradient g then AD_D f(w) = g, for every choice D; hence inc_M(f) = {}.
   From T3 (differentiable => not NS), T5(b) (not NS => AD_D f(w) is a
   gradient) and the uniqueness of the gradient. *)
From Coq Require Import Reals List.
From ADCorrect Require Import Vec Frechet Network AD T5b T3.
Open Scope R_scope.

(* for bias networks, differentiability at w rules out NS(w) *)
Lemma differentiable_not_NS (net : network) (D : nat -> R) (w : vec) :
  wf net -> bias_network net -> differentiable (n_params net) (net_eval net) w -> ~ NS net D w.
Proof. intros Hwf Hb Hd Hns; exact (T3_ns_not_differentiable net D w Hwf Hb Hns Hd). Qed.

Theorem T1_ad_correct (net : network) (D : nat -> R) (w g : vec) :
  wf net -> bias_network net -> differentiable_at (n_params net) (net_eval net) w g ->
  forall p, (p < n_params net)%nat -> ad net D w p = g p.
Proof.
  intros Hwf Hb Hd p Hp.
  assert (Hns : ~ NS net D w) by (apply (differentiable_not_NS net D w Hwf Hb); exists g; exact Hd).
  exact (differentiable_at_unique _ _ w _ _ (T5b_not_NS_differentiable net D w Hwf Hns) Hd p Hp).
Qed.

(* inc_M(f) = {}: no point of differentiability where AD_D f(w) differs from
   the gradient *)
Corollary T1_no_incorrect_point (net : network) (D : nat -> R) (w : vec) :
  wf net -> bias_network net -> differentiable (n_params net) (net_eval net) w ->
  differentiable_at (n_params net) (net_eval net) w (ad net D w).
Proof.
  intros Hwf Hb Hd; apply T5b_not_NS_differentiable; [exact Hwf|].
  now apply (differentiable_not_NS net D w Hwf Hb).
Qed.
